using SyscallTools.Core.Assembly;
using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Models;
using Xunit;

namespace SyscallTools.Core.Tests.LinuxTests;

/// <summary>
/// sigaltstack (kernel/signal.c do_sigaltstack, arch/x86/kernel/signal.c get_sigframe): the syscall on both ABIs,
/// where a SA_ONSTACK handler's frame goes, and the uc_stack a rt frame records.
/// </summary>
public class SigAltStackTests
{
    private const uint SsOnstack = 1, SsDisable = 2, SsAutodisarm = 1u << 31;

    private static LinuxMachine Machine(string model, int tbits, int kbits = 64) =>
        new(KernelModel.Find(model)!, CpuProfile.AmdZen3, kbits, tbits);

    /// <summary>Writes a stack_t for the task's ABI at <paramref name="at"/>.</summary>
    private static void PutStackT(LinuxMachine m, ulong at, ulong sp, uint flags, ulong size)
    {
        if (m.Task.Bitness == 32)
        {
            m.Memory.WriteUInt32(at, (uint)sp); m.Memory.WriteUInt32(at + 4, flags); m.Memory.WriteUInt32(at + 8, (uint)size);
        }
        else
        {
            m.Memory.WriteUInt64(at, sp); m.Memory.WriteUInt32(at + 8, flags); m.Memory.WriteUInt64(at + 16, size);
        }
    }

    private static (ulong Sp, uint Flags, ulong Size) GetStackT(LinuxMachine m, ulong at) => m.Task.Bitness == 32
        ? (m.Memory.ReadUInt32(at), m.Memory.ReadUInt32(at + 4), m.Memory.ReadUInt32(at + 8))
        : (m.Memory.ReadUInt64(at), m.Memory.ReadUInt32(at + 8), m.Memory.ReadUInt64(at + 16));

    /// <summary>sigaltstack(uss, uoss) through the ABI's own entry (131 on x86-64, 186 on i386).</summary>
    private static long Sigaltstack(LinuxMachine m, ulong uss, ulong uoss) =>
        m.InvokeSyscall(m.Task.Bitness == 32 ? 186 : 131, [uss, uoss]).Return;

    [Theory]
    [InlineData("linux-6.18", 64)]
    [InlineData("linux-6.18", 32)]
    [InlineData("linux-4.4", 32)]
    [InlineData("linux-4.2", 64)]
    public void SetThenQueryReturnsTheStackAndNotOnItFlags(string model, int tbits)
    {
        var m = Machine(model, tbits);
        ulong d = m.UserDataArea;
        // No stack yet: the old one reads SS_DISABLE with base and size 0.
        Assert.Equal(0, Sigaltstack(m, 0, d + 0x40));
        Assert.Equal((0UL, SsDisable, 0UL), GetStackT(m, d + 0x40));
        PutStackT(m, d, d + 0x1000, 0, 0x2000);
        Assert.Equal(0, Sigaltstack(m, d, 0));
        Assert.Equal(0, Sigaltstack(m, 0, d + 0x40));
        Assert.Equal((d + 0x1000, 0u, 0x2000UL), GetStackT(m, d + 0x40));   // sp is not on it: flags 0
    }

    [Theory]
    [InlineData("linux-6.18", 64, 4u, -Errno.EINVAL)]                 // mode 4 is none of 0, SS_ONSTACK, SS_DISABLE
    [InlineData("linux-4.4", 32, 1024u, -Errno.EINVAL)]
    [InlineData("linux-6.18", 32, 0u, -Errno.ENOMEM)]                 // 1024 bytes < MINSIGSTKSZ (2048)
    [InlineData("linux-4.4", 64, SsAutodisarm, -Errno.EINVAL)]         // SS_AUTODISARM arrived in 4.7
    [InlineData("linux-6.18", 64, SsAutodisarm, 0L)]
    public void RefusesWhatDoSigaltstackRefuses(string model, int tbits, uint flags, long expected)
    {
        var m = Machine(model, tbits);
        ulong d = m.UserDataArea;
        PutStackT(m, d, d + 0x1000, flags, expected == -Errno.ENOMEM ? 1024UL : 0x2000UL);
        Assert.Equal(expected, Sigaltstack(m, d, 0));
    }

    [Fact]
    public void SsDisableForgetsTheStack()
    {
        var m = Machine("linux-6.18", 64);
        ulong d = m.UserDataArea;
        PutStackT(m, d, d + 0x1000, 0, 0x2000);
        Assert.Equal(0, Sigaltstack(m, d, 0));
        PutStackT(m, d, 0x1234, SsDisable, 0x9999);
        Assert.Equal(0, Sigaltstack(m, d, d + 0x40));
        Assert.Equal((d + 0x1000, 0u, 0x2000UL), GetStackT(m, d + 0x40));   // the old one, taken before the change
        Assert.Equal(0UL, m.SignalState.AltStack.Size);
    }

    [Fact]
    public void UnreadableStackTIsEfault()
    {
        var m = Machine("linux-6.18", 32);
        Assert.Equal(-Errno.EFAULT, Sigaltstack(m, 0x1000, 0));
    }

    /// <summary>
    /// A SA_ONSTACK handler runs on the alternate stack: its frame sits just below base + size, and inside the handler
    /// a sigaltstack() query says SS_ONSTACK and any change is -EPERM (which also leaves uoss unwritten). rt frames record uc_stack (flags 0 before 4.7:
    /// sas_ss_flags(regs->sp) of the interrupted, off-stack code; 4.7+: the stored flags, also 0 here).
    /// </summary>
    [Theory]
    [InlineData("linux-6.18", 64, 64)]
    [InlineData("linux-4.4", 32, 64)]
    [InlineData("linux-4.2", 32, 32)]
    [InlineData("linux-6.18", 32, 32)]
    public void OnstackHandlerRunsOnTheAlternateStack(string model, int tbits, int kbits)
    {
        var m = Machine(model, tbits, kbits);
        ulong d = m.UserDataArea, alt = d + 0x1000, handler = m.UserText + 0x100;
        PutStackT(m, d, alt, 0, 0x2000);
        PutStackT(m, d + 0x80, alt, 0, 0x2000);   // a change attempted from inside the handler
        string[] body = tbits == 64
            ? [$"mov [{d + 0x40}], rsp", "xor edi, edi", $"mov esi, {d + 0xC0}", "mov eax, 131", "syscall",
               $"mov edi, {d + 0x80}", "xor esi, esi", "mov eax, 131", "syscall", $"mov [{d + 0x48}], rax", "ret"]
            : [$"mov [{d + 0x40}], esp", "xor ebx, ebx", $"mov ecx, {d + 0xC0}", "mov eax, 186", "int 0x80",
               $"mov ebx, {d + 0x80}", "xor ecx, ecx", "mov eax, 186", "int 0x80", $"mov [{d + 0x48}], eax", "ret"];
        m.Memory.WriteBytes(handler, IntelSyntax.Assemble(body, tbits, handler));
        ulong restorer = m.UserText + 0xF00;
        m.Memory.WriteBytes(restorer, [0xB8, 15, 0, 0, 0, 0x0F, 0x05]);
        m.SignalState.Actions[Signal.SIGUSR1] = new SignalAction(handler,
            SignalAction.SaSiginfo | SignalAction.SaOnstack | (tbits == 64 ? SignalAction.SaRestorer : 0), tbits == 64 ? restorer : 0, 0);
        Assert.Equal(0, Sigaltstack(m, d, 0));
        var r = m.InvokeSyscall(tbits == 32 ? 37 : 62, [4242, Signal.SIGUSR1]);
        Assert.True(r.Completed, r.Outcome);
        ulong handlerSp = tbits == 64 ? m.Memory.ReadUInt64(d + 0x40) : m.Memory.ReadUInt32(d + 0x40);
        Assert.InRange(handlerSp, alt + 1, alt + 0x2000);
        Assert.Equal(m.LastSignalFrame, handlerSp);
        Assert.Equal(-Errno.EPERM, tbits == 64 ? (long)m.Memory.ReadUInt64(d + 0x48) : (int)m.Memory.ReadUInt32(d + 0x48));
        Assert.Equal(SsOnstack, GetStackT(m, d + 0xC0).Flags);
        // uc_stack in the frame.
        ulong ucStack = m.LastSignalFrame + (ulong)(tbits == 64 ? SignalFrames.RtFrame64.UcStack : SignalFrames.RtFrame32.UcStack);
        Assert.Equal((alt, 0u, 0x2000UL), GetStackT(m, ucStack));
        // After sigreturn the task is off the stack again and may change it.
        Assert.Equal(0, Sigaltstack(m, d, 0));
    }

    [Theory]
    [InlineData(64)]
    [InlineData(32)]
    public void WithoutSaOnstackTheFrameStaysOnTheNormalStack(int tbits)
    {
        var m = Machine("linux-6.18", tbits);
        ulong d = m.UserDataArea, handler = m.UserText + 0x100;
        PutStackT(m, d, d + 0x1000, 0, 0x2000);
        m.Memory.WriteBytes(handler, [0xC3]);
        m.Memory.WriteBytes(m.UserText + 0xF00, [0xB8, 15, 0, 0, 0, 0x0F, 0x05]);
        m.SignalState.Actions[Signal.SIGUSR1] = new SignalAction(handler,
            SignalAction.SaSiginfo | (tbits == 64 ? SignalAction.SaRestorer : 0), tbits == 64 ? m.UserText + 0xF00 : 0, 0);
        Assert.Equal(0, Sigaltstack(m, d, 0));
        var r = m.InvokeSyscall(tbits == 32 ? 37 : 62, [4242, Signal.SIGUSR1]);
        Assert.True(r.Completed, r.Outcome);
        Assert.False(m.LastSignalFrame >= d + 0x1000 && m.LastSignalFrame < d + 0x3000);
    }

    [Fact]
    public void AutodisarmDisarmsWhileTheHandlerRunsAndUcStackPutsItBack()
    {
        // 4.7+: the handler may take a nested signal on the same stack; rt_sigreturn re-arms it from uc_stack.
        var m = Machine("linux-6.18", 64);
        ulong d = m.UserDataArea, alt = d + 0x1000, handler = m.UserText + 0x100;
        PutStackT(m, d, alt, SsAutodisarm, 0x2000);
        string[] body = [$"mov edi, 0", $"mov esi, {d + 0xC0}", "mov eax, 131", "syscall", "ret"];
        m.Memory.WriteBytes(handler, IntelSyntax.Assemble(body, 64, handler));
        m.Memory.WriteBytes(m.UserText + 0xF00, [0xB8, 15, 0, 0, 0, 0x0F, 0x05]);
        m.SignalState.Actions[Signal.SIGUSR1] = new SignalAction(handler,
            SignalAction.SaSiginfo | SignalAction.SaOnstack | SignalAction.SaRestorer, m.UserText + 0xF00, 0);
        Assert.Equal(0, Sigaltstack(m, d, 0));
        var r = m.InvokeSyscall(62, [4242, Signal.SIGUSR1]);
        Assert.True(r.Completed, r.Outcome);
        Assert.Equal(SsDisable, GetStackT(m, d + 0xC0).Flags);              // disarmed inside the handler
        ulong ucStack = m.LastSignalFrame + SignalFrames.RtFrame64.UcStack;
        Assert.Equal((alt, SsAutodisarm, 0x2000UL), GetStackT(m, ucStack));  // the stored flags, 4.7+
        Assert.Equal(new AltStack(alt, 0x2000, SsAutodisarm), m.SignalState.AltStack);   // re-armed by rt_sigreturn
    }

    [Fact]
    public void OverflowingTheAlternateStackIsSigsegv()
    {
        // "If we are on the alternate signal stack and would overflow it, don't": the frame would leave the stack.
        // The memory below the stack is mapped and the handler could return through a real restorer, so only the
        // refusal can keep the handler from running and kill the task.
        var m = Machine("linux-6.18", 64);
        ulong d = m.UserDataArea, alt = d + 0x1000, handler = m.UserText + 0x100;
        m.Memory.WriteBytes(handler, IntelSyntax.Assemble([$"mov byte ptr [{d + 0x40}], 1", "ret"], 64, handler));
        m.Memory.WriteBytes(m.UserText + 0xF00, [0xB8, 15, 0, 0, 0, 0x0F, 0x05]);   // mov eax, 15; syscall (rt_sigreturn)
        m.SignalState.AltStack = new AltStack(alt, 0x800 * 4, 0);
        m.SignalState.Actions[Signal.SIGUSR1] = new SignalAction(handler, SignalAction.SaSiginfo | SignalAction.SaOnstack | SignalAction.SaRestorer, m.UserText + 0xF00, 0);
        // Already on the stack, 256 bytes above its base: the red zone leaves 128, no room for a 1 KiB frame. (64 bytes
        // above the base would put the red zone below the stack, which sas_ss_flags() reads as "not on it": the frame
        // would go to the top again.)
        var r = m.RunUserCode(IntelSyntax.Assemble([$"mov rsp, {alt + 256}", "mov edi, 4242", "mov esi, 10", "mov eax, 62", "syscall"], 64, m.UserCodeAddress));
        Assert.True(m.Task.Exited);
        Assert.Equal(Signal.SIGSEGV, m.Task.KilledBy);
        Assert.Equal(0, m.Memory.ReadBytes(d + 0x40, 1)[0]);                          // the handler never ran
        Assert.Null(r.Oops);
    }

    /// <summary>
    /// Entering an alternate stack too small for the frame: 5.14+ refuses it (entering_altstack, SIGSEGV, the handler
    /// never runs); before, only a nested frame was checked, so the frame spills below the stack's base and the handler
    /// runs (here the memory below is mapped and the restorer real, so it returns and the task goes on).
    /// </summary>
    [Theory]
    [InlineData("linux-6.18", true)]
    [InlineData("linux-4.4", false)]
    public void EnteringAnAlternateStackTooSmallForTheFrame(string model, bool refused)
    {
        var m = Machine(model, 64);
        ulong d = m.UserDataArea, alt = d + 0x1000, handler = m.UserText + 0x100;
        m.Memory.WriteBytes(handler, IntelSyntax.Assemble([$"mov byte ptr [{d + 0x40}], 1", "ret"], 64, handler));
        m.Memory.WriteBytes(m.UserText + 0xF00, [0xB8, 15, 0, 0, 0, 0x0F, 0x05]);   // mov eax, 15; syscall (rt_sigreturn)
        m.SignalState.AltStack = new AltStack(alt, 0x200, 0);                      // 512 bytes: smaller than any 64-bit frame
        m.SignalState.Actions[Signal.SIGUSR1] = new SignalAction(handler, SignalAction.SaSiginfo | SignalAction.SaOnstack | SignalAction.SaRestorer, m.UserText + 0xF00, 0);
        var r = m.InvokeSyscall(62, [4242, Signal.SIGUSR1]);
        Assert.Null(r.Oops);
        Assert.Equal(refused, m.Task.Exited);
        Assert.Equal(refused ? Signal.SIGSEGV : 0, m.Task.KilledBy ?? 0);
        Assert.Equal(refused ? 0 : 1, m.Memory.ReadBytes(d + 0x40, 1)[0]);
    }
}
