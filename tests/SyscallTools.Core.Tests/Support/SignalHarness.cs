using SyscallTools.Core.Assembly;
using SyscallTools.Core.Linux;

namespace SyscallTools.Core.Tests.Support;

/// <summary>Raising SIGUSR1 at a task that has a SA_SIGINFO handler written in assembly.</summary>
public static class SignalHarness
{
    /// <summary>
    /// Installs a SA_SIGINFO SIGUSR1 handler made of <paramref name="body"/> (ucontext in rdx, or [esp+12] on i386),
    /// a 64-bit restorer, and the same handler for <paramref name="alsoFor"/>; runs <paramref name="before"/>, raises
    /// SIGUSR1 with tgkill (64-bit) or kill (i386), then runs <paramref name="after"/>.
    /// </summary>
    public static UserRunResult RaiseWithHandler(LinuxMachine m, string[] body, ulong extraFlags = 0, string[]? before = null,
        string[]? after = null, params int[] alsoFor)
    {
        int bits = m.Task.Bitness;
        ulong handler = m.UserText + 0x100, restorer = m.UserText + 0xF00;
        m.Memory.WriteBytes(handler, IntelSyntax.Assemble(body, bits, handler));
        m.Memory.WriteBytes(restorer, [0xB8, 15, 0, 0, 0, 0x0F, 0x05]);
        ulong flags = SignalAction.SaSiginfo | extraFlags | (bits == 64 ? SignalAction.SaRestorer : 0);
        foreach (int s in alsoFor.Prepend(Signal.SIGUSR1))
            m.SignalState.Actions[s] = new SignalAction(handler, flags, bits == 64 ? restorer : 0, 0);
        string[] raise = bits == 64
            ? ["mov edi, 4242", "mov esi, 4242", "mov edx, 10", "mov eax, 234", "syscall"]
            : ["mov ebx, 4242", "mov ecx, 10", "mov eax, 37", "int 0x80"];
        string[] code = [.. before ?? [], .. raise, .. after ?? []];
        return m.RunUserCode(IntelSyntax.Assemble(code, bits, m.UserCodeAddress), budget: 200_000);
    }
}
