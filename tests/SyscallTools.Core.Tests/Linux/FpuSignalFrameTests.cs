using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Models;
using SyscallTools.Core.Tests.Support;
using Xunit;
using static SyscallTools.Core.Linux.SignalFrames;

namespace SyscallTools.Core.Tests.LinuxTests;

/// <summary>
/// The FPU/SSE state in signal frames (arch/x86/kernel/signal.c get_sigframe; fpu/signal.c fpu__alloc_mathframe,
/// copy_fpstate_to_sigframe, fpu__restore_sig; fpu/regset.c convert_from_fxsr / convert_to_fxsr), for CPUs with FXSR
/// and no XSAVE, as the profiles report. The expected addresses are the kernel's formulas applied to the stack pointer
/// at the signal; that the state survives a handler is also checked against the real kernel (the fpu_signal fixture in
/// ProgramAgreementTests).
/// </summary>
public class FpuSignalFrameTests
{
    private static LinuxMachine Machine(string model, int tbits) => new(KernelModel.Find(model)!, CpuProfile.AmdZen3, 64, tbits);

    private const int Mc64 = RtFrame64.UcMcontext - RtFrame64.Uc;

    /// <summary>Before the signal: XMM5 = 0x12345678, MXCSR = 0x3f80 (round down). After: both stored at d and d + 4.</summary>
    private static (string[] Before, string[] After) XmmAndMxcsrAround(ulong d) =>
        (["mov eax, 0x12345678", "movd xmm5, eax", $"mov dword ptr [{d + 32}], 0x3f80", $"ldmxcsr dword ptr [{d + 32}]"],
         ["movd eax, xmm5", $"mov [{d}], eax", $"stmxcsr dword ptr [{d + 4}]"]);

    [Fact]
    public void A64BitFrameSitsBelowAnFxsaveImageAlignedTo64BytesBelowTheRedZone()
    {
        var m = Machine("linux-6.18", 64);
        ulong d = m.UserDataArea;
        var r = SignalHarness.RaiseWithHandler(m, [$"mov rax, [rdx+{Mc64 + Sc64.Fpstate}]", $"mov [{d}], rax", $"mov [{d + 8}], rsp", "ret"]);
        Assert.True(r.Outcome == "ran to the end of the code", r.Outcome);
        ulong sp = m.InitialStackPointer;
        ulong fpstate = (sp - 128 - 512) & ~63UL;                       // round_down(sp - redzone - sizeof(fxregs_state), 64)
        Assert.Equal(fpstate, m.Memory.ReadUInt64(d));
        Assert.Equal(((fpstate - RtFrame64.Size) & ~15UL) - 8, m.Memory.ReadUInt64(d + 8));
    }

    [Theory]
    [InlineData("linux-6.18", 0x46505853u)]   // save_sw_bytes: FP_XSTATE_MAGIC1 even without XSAVE
    [InlineData("linux-4.4", 0u)]             // fx_sw_reserved, set up only with XSAVE
    public void AnI386FrameHasAnFsaveHeaderBeforeTheImage(string model, uint magic1)
    {
        var m = Machine(model, 32);
        ulong d = m.UserDataArea;
        // The handler copies the header's first 12 bytes, status and magic, the image's MXCSR and sw_reserved magic1.
        string[] body =
        [
            "mov eax, [esp+12]", $"mov eax, [eax+{RtFrame32.UcMcontext - RtFrame32.Uc + Sc32.Fpstate}]", $"mov [{d}], eax",
            "mov ecx, [eax]", $"mov [{d + 4}], ecx", "mov ecx, [eax+4]", $"mov [{d + 8}], ecx", "mov ecx, [eax+8]", $"mov [{d + 12}], ecx",
            "mov ecx, [eax+108]", $"mov [{d + 16}], ecx", "mov ecx, [eax+112+24]", $"mov [{d + 20}], ecx",
            "mov ecx, [eax+112+464]", $"mov [{d + 24}], ecx", "ret",
        ];
        var r = SignalHarness.RaiseWithHandler(m, body);
        Assert.True(r.Outcome == "ran to the end of the code", r.Outcome);
        ulong sp = (uint)m.InitialStackPointer;
        ulong fpstate = ((sp - 512) & ~63UL) - 112;                     // no red zone; the fsave header before buf_fx
        Assert.Equal((uint)fpstate, m.Memory.ReadUInt32(d));
        Assert.Equal(0xFFFF037Fu, m.Memory.ReadUInt32(d + 4));         // cwd | 0xffff0000 (FNINIT's control word)
        Assert.Equal(0xFFFF0000u, m.Memory.ReadUInt32(d + 8));         // swd | 0xffff0000
        Assert.Equal(0xFFFFFFFFu, m.Memory.ReadUInt32(d + 12));        // every register empty: tag 11
        Assert.Equal(0u, m.Memory.ReadUInt32(d + 16));                 // status = swd, magic = X86_FXSR_MAGIC (0)
        Assert.Equal(0x1F80u, m.Memory.ReadUInt32(d + 20));            // MXCSR's default
        Assert.Equal(magic1, m.Memory.ReadUInt32(d + 24));
    }

    [Theory]
    [InlineData(64)]
    [InlineData(32)]
    public void AHandlersChangesToXmmAndMxcsrAreUndoneBySigreturn(int bits)
    {
        var m = Machine("linux-6.18", bits);
        ulong d = m.UserDataArea;
        var (before, after) = XmmAndMxcsrAround(d);
        string[] body = ["pxor xmm5, xmm5", "mov dword ptr [" + (d + 40) + "], 0x7f80", "ldmxcsr dword ptr [" + (d + 40) + "]", "ret"];
        var r = SignalHarness.RaiseWithHandler(m, body, before: before, after: after);
        Assert.True(r.Outcome == "ran to the end of the code", r.Outcome);
        Assert.Equal(0x12345678u, m.Memory.ReadUInt32(d));
        Assert.Equal(0x3F80u, m.Memory.ReadUInt32(d + 4));
    }

    [Fact]
    public void ANullFpstateResetsTheFpuAndSseState()
    {
        // fpu__restore_sig(NULL): fpu__clear_user_states, the init state (XMM zero, MXCSR 0x1f80).
        var m = Machine("linux-6.18", 64);
        ulong d = m.UserDataArea;
        var (before, after) = XmmAndMxcsrAround(d);
        var r = SignalHarness.RaiseWithHandler(m, [$"mov qword ptr [rdx+{Mc64 + Sc64.Fpstate}], 0", "ret"], before: before, after: after);
        Assert.True(r.Outcome == "ran to the end of the code", r.Outcome);
        Assert.Equal(0u, m.Memory.ReadUInt32(d));
        Assert.Equal(0x1F80u, m.Memory.ReadUInt32(d + 4));
    }

    [Fact]
    public void ReservedMxcsrBitsInTheFrameMakeSigreturnFailWithSigsegv()
    {
        // A 64-bit kernel rejects them (FXRSTOR would #GP): restore fails, signal_fault() → SIGSEGV, which kills.
        var m = Machine("linux-6.18", 64);
        ulong d = m.UserDataArea;
        var r = SignalHarness.RaiseWithHandler(m,
            [$"mov rax, [rdx+{Mc64 + Sc64.Fpstate}]", "mov dword ptr [rax+24], 0xffffffff", $"mov dword ptr [{d}], 1", "ret"]);
        Assert.Equal(1u, m.Memory.ReadUInt32(d));                      // the handler edited the image and returned
        Assert.Equal("SIGSEGV", r.Signal);
    }

    [Fact]
    public void AnI386HandlerEditingTheFsaveHeaderChangesTheControlWord()
    {
        // restore_from_ia32_fxstate: the legacy header is the source of truth for the x87 part (convert_to_fxsr).
        var m = Machine("linux-6.18", 32);
        ulong d = m.UserDataArea;
        string[] body = ["mov eax, [esp+12]", $"mov eax, [eax+{RtFrame32.UcMcontext - RtFrame32.Uc + Sc32.Fpstate}]", "mov dword ptr [eax], 0xffff0c7f", "ret"];
        var r = SignalHarness.RaiseWithHandler(m, body, after: [$"fnstcw word ptr [{d}]"]);
        Assert.True(r.Outcome == "ran to the end of the code", r.Outcome);
        Assert.Equal(0x0C7Fu, m.Memory.ReadUInt32(d) & 0xFFFF);
    }
}
