using SyscallTools.Core.Assembly;
using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Models;
using Xunit;
using static SyscallTools.Core.Linux.SignalFrames;

namespace SyscallTools.Core.Tests.LinuxTests;

/// <summary>
/// The siginfo a SA_SIGINFO handler gets (include/uapi/asm-generic/siginfo.h; traps.c, fault.c): the union after
/// si_code starts at 12 on i386 and 16 on x86-64; a page fault gives SEGV_MAPERR or SEGV_ACCERR with si_addr; a
/// single-step trap gives TRAP_TRACE at the user IP; kill() gives SI_USER with the sender's pid and uid.
/// </summary>
public class SigInfoTests
{
    /// <summary>Runs <paramref name="code"/> with a SA_SIGINFO handler for <paramref name="sig"/> that copies 32 bytes of siginfo to the data area and exits.</summary>
    private static LinuxMachine Run(int tbits, int sig, string[] code)
    {
        var m = new LinuxMachine(new Linux618(), CpuProfile.AmdZen3, 64, tbits);
        ulong d = m.UserDataArea, handler = m.UserText + 0x100;
        string[] body = tbits == 64
            ? [$"mov rdi, {d}", "mov ecx, 32", "rep movsb", "xor edi, edi", "mov eax, 60", "syscall"]
            : ["mov esi, [esp+8]", $"mov edi, {d}", "mov ecx, 32", "rep movsb", "xor ebx, ebx", "mov eax, 1", "int 0x80"];
        m.Memory.WriteBytes(handler, IntelSyntax.Assemble(body, tbits, handler));
        m.Memory.WriteBytes(m.UserText + 0xF00, [0xB8, 15, 0, 0, 0, 0x0F, 0x05]);
        m.SignalState.Actions[sig] = new SignalAction(handler,
            SignalAction.SaSiginfo | (tbits == 64 ? SignalAction.SaRestorer : 0), tbits == 64 ? m.UserText + 0xF00 : 0, 0);
        var r = m.RunUserCode(IntelSyntax.Assemble(code, tbits, m.UserCodeAddress));
        Assert.Null(r.Oops);
        Assert.Equal(0, m.Task.ExitStatus);
        return m;
    }

    private static ulong Field(LinuxMachine m, int offset) => m.Task.Bitness == 64
        ? m.Memory.ReadUInt64(m.UserDataArea + (ulong)(SiFields(64) + offset))
        : m.Memory.ReadUInt32(m.UserDataArea + (ulong)(SiFields(32) + offset));

    private static int Code(LinuxMachine m) => (int)m.Memory.ReadUInt32(m.UserDataArea + SiCode);

    [Theory]
    [InlineData(64)]
    [InlineData(32)]
    public void AnUnmappedAccessIsMaperrAtTheAddress(int tbits)
    {
        var m = Run(tbits, Signal.SIGSEGV, ["mov eax, [0x1234]"]);
        Assert.Equal(SegvMaperr, Code(m));
        Assert.Equal(0x1234UL, Field(m, SiAddr));
    }

    [Theory]
    [InlineData(64)]
    [InlineData(32)]
    public void WritingARead_onlyPageIsAccerr(int tbits)
    {
        var m0 = new LinuxMachine(new Linux618(), CpuProfile.AmdZen3, 64, tbits);
        ulong text = m0.UserText + 0x10;                                 // user text is mapped read + execute
        var m = Run(tbits, Signal.SIGSEGV, [$"mov dword ptr [{text}], 1"]);
        Assert.Equal(SegvAccerr, Code(m));
        Assert.Equal(text, Field(m, SiAddr));
    }

    [Theory]
    [InlineData(64)]
    [InlineData(32)]
    public void ASingleStepTrapIsTrapTraceAtTheNextInstruction(int tbits)
    {
        string[] code = tbits == 64
            ? ["pushfq", "or dword ptr [rsp], 0x100", "popfq", "nop"]
            : ["pushfd", "or dword ptr [esp], 0x100", "popfd", "nop"];
        var m = Run(tbits, Signal.SIGTRAP, code);
        Assert.Equal(TrapTrace, Code(m));
        // The trap comes after the first instruction run with TF set (the NOP at +3 after pushf/or/popf).
        ulong after = m.UserCodeAddress + (ulong)IntelSyntax.Assemble(code, tbits, m.UserCodeAddress).Length;
        Assert.Equal(after, Field(m, SiAddr));
    }

    [Theory]
    [InlineData(64, 62)]
    [InlineData(32, 37)]
    public void KillIsSiUserWithPidAndUid(int tbits, int nr)
    {
        string[] code = tbits == 64
            ? [$"mov edi, 4242", "mov esi, 10", $"mov eax, {nr}", "syscall"]
            : [$"mov ebx, 4242", "mov ecx, 10", $"mov eax, {nr}", "int 0x80"];
        var m = Run(tbits, Signal.SIGUSR1, code);
        Assert.Equal(SiUser, Code(m));
        Assert.Equal(4242u, m.Memory.ReadUInt32(m.UserDataArea + (ulong)(SiFields(tbits) + SiPid)));
        Assert.Equal(1000u, m.Memory.ReadUInt32(m.UserDataArea + (ulong)(SiFields(tbits) + SiUid)));
    }
}
