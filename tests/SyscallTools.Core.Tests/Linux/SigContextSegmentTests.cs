using SyscallTools.Core.Assembly;
using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Models;
using Xunit;
using static SyscallTools.Core.Linux.SignalFrames;

namespace SyscallTools.Core.Tests.LinuxTests;

/// <summary>
/// What sigreturn does with segment registers, per kernel version and bitness (arch/x86/kernel/signal.c
/// restore_sigcontext / setup_sigcontext, ia32_signal.c, entry_32.S RESTORE_REGS), and what a refused IRET becomes
/// (fixup_bad_iret on 64-bit kernels, iret_exc / do_iret_error on 32-bit ones).
/// </summary>
public class SigContextSegmentTests
{
    private static LinuxMachine Machine(string model, int tbits, int kbits = 64, string vendor = "amd") =>
        new(KernelModel.Find(model)!, vendor == "intel" ? CpuProfile.IntelSkylake : CpuProfile.AmdZen3, kbits, tbits);

    private static UserRunResult RaiseWithHandler(LinuxMachine m, string[] body, ulong extraFlags = 0, params int[] alsoFor) =>
        Support.SignalHarness.RaiseWithHandler(m, body, extraFlags, null, null, alsoFor);

    private const int Mc64 = RtFrame64.UcMcontext - RtFrame64.Uc, Mc32 = RtFrame32.UcMcontext - RtFrame32.Uc;

    [Theory]
    [InlineData("linux-4.2", 0UL)]
    [InlineData("linux-4.4", 0UL)]
    [InlineData("linux-6.18", UcSigcontextSs | UcStrictRestoreSs)]   // 4.6+, raised from 64-bit code
    public void UcFlagsOfA64BitFrameFollowTheVersion(string model, ulong expected)
    {
        var m = Machine(model, 64);
        ulong d = m.UserDataArea;
        var r = RaiseWithHandler(m, ["mov rax, [rdx]", $"mov [{d}], rax", "ret"]);
        Assert.True(r.Outcome == "ran to the end of the code", r.Outcome);
        Assert.Equal(expected, m.Memory.ReadUInt64(d));
    }

    [Theory]
    [InlineData("linux-4.4", false)]
    [InlineData("linux-6.18", true)]
    public void SsInThe64BitSigcontextIsSavedFrom46AndOtherwiseLeftAsTheStackHadIt(string model, bool saved)
    {
        var m = Machine(model, 64);
        // Fill the stack below the current sp so that a field the kernel does not write shows.
        ulong sp = m.InitialStackPointer;
        m.Memory.WriteBytes(sp - 0x1000, Enumerable.Repeat((byte)0xA5, 0x1000).ToArray());
        var r = RaiseWithHandler(m, ["ret"]);
        Assert.True(r.Outcome == "ran to the end of the code", r.Outcome);
        ulong sc = m.LastSignalFrame + RtFrame64.UcMcontext;
        Assert.Equal(saved ? Selectors.X64.UserDs : (ushort)0xA5A5, (ushort)m.Memory.ReadUInt32(sc + Sc64.Ss));
        Assert.Equal(0, (ushort)m.Memory.ReadUInt32(sc + Sc64.Gs));            // "put_user_ex(0, &sc->gs)" in every version
        Assert.Equal(0, (ushort)m.Memory.ReadUInt32(sc + Sc64.Fs));
    }

    /// <summary>A 64-bit sigreturn to a bogus SS: 4.6+ restores it (and IRET refuses it), earlier kernels ignore the slot.</summary>
    [Theory]
    [InlineData("linux-4.2", false)]
    [InlineData("linux-4.4", false)]
    [InlineData("linux-6.18", true)]
    public void A64BitSigreturnRestoresSsOnlyFrom46(string model, bool restores)
    {
        var m = Machine(model, 64, vendor: "intel");
        var r = RaiseWithHandler(m, [$"mov word ptr [rdx+{Mc64 + Sc64.Ss}], 0x3b", "ret"]);
        if (restores)
        {
            Assert.Equal(Signal.SIGSEGV, m.Task.KilledBy);                   // IRET #GP(0x38) → fixup_bad_iret → SIGSEGV
            Assert.Contains(r.KernelEntries, e => e.CFunctions.Contains("fixup_bad_iret"));
        }
        else
        {
            Assert.True(r.Outcome == "ran to the end of the code", r.Outcome);
            Assert.Equal(Selectors.X64.UserDs, r.After.Ss);
        }
        Assert.Null(r.Oops);
    }

    [Fact]
    public void NonStrictSigreturnTo64BitCodeRepairsAnUnusableSs()
    {
        var m = Machine("linux-6.18", 64);
        var r = RaiseWithHandler(m, ["and qword ptr [rdx], -5", $"mov word ptr [rdx+{Mc64 + Sc64.Ss}], 0x33", "ret"]);
        Assert.True(r.Outcome == "ran to the end of the code", r.Outcome);
        Assert.Equal(Selectors.X64.UserDs, r.After.Ss);                  // a code segment is no SS: __USER_DS
    }

    [Fact]
    public void StrictSigreturnKeepsTheRequestedSsAndIretRefusesIt()
    {
        var m = Machine("linux-6.18", 64);
        var r = RaiseWithHandler(m, [$"mov word ptr [rdx+{Mc64 + Sc64.Ss}], 0x33", "ret"]);
        Assert.Equal(Signal.SIGSEGV, m.Task.KilledBy);
        Assert.Null(r.Oops);
    }

    /// <summary>
    /// A bad IRET with a SIGSEGV handler: the handler runs (on the alternate stack, since SP is garbage) and its
    /// sigcontext shows the refused SS with trapno 13 and error code = the selector; on a 32-bit kernel the same
    /// state gives SIGILL, trapno 32 (X86_TRAP_IRET), error 0, si_code ILL_BADSTK.
    /// </summary>
    [Theory]
    [InlineData("linux-6.18", 64, 64)]
    [InlineData("linux-4.4", 32, 64)]
    [InlineData("linux-4.2", 32, 32)]
    [InlineData("linux-6.18", 32, 32)]
    public void ABadIretReachesTheHandlerWithTheFaultTheKernelReports(string model, int tbits, int kbits)
    {
        var m = Machine(model, tbits, kbits);
        ulong d = m.UserDataArea;
        ushort badSs = kbits == 64 ? (ushort)0x3b : (ushort)0x0b;
        m.SignalState.AltStack = new AltStack(d + 0x1000, 0x2000, 0);
        // First run (SIGUSR1): plant the bad SS and a garbage SP. Second run (the fault's signal): record it and exit.
        string[] body = tbits == 64
            ? ["cmp edi, 10", "jne fault", $"mov word ptr [rdx+{Mc64 + Sc64.Ss}], {badSs}", $"mov qword ptr [rdx+{Mc64 + Sc64.Sp}], 0x1000", "ret",
               "fault:", $"mov [{d}], edi", $"mov rax, [rdx+{Mc64 + Sc64.Trapno}]", $"mov [{d + 8}], rax", $"mov rax, [rdx+{Mc64 + Sc64.Err}]", $"mov [{d + 16}], rax",
               $"movzx eax, word ptr [rdx+{Mc64 + Sc64.Ss}]", $"mov [{d + 24}], eax", $"mov eax, [rsi+{SiCode}]", $"mov [{d + 32}], eax",
               "mov edi, 0", "mov eax, 60", "syscall"]
            : ["mov edx, [esp+12]", "cmp dword ptr [esp+4], 10", "jne fault", $"mov dword ptr [edx+{Mc32 + Sc32.Ss}], {badSs}", $"mov dword ptr [edx+{Mc32 + Sc32.Sp}], 0x1000", "ret",
               "fault:", "mov eax, [esp+4]", $"mov [{d}], eax", $"mov eax, [edx+{Mc32 + Sc32.Trapno}]", $"mov [{d + 8}], eax", $"mov eax, [edx+{Mc32 + Sc32.Err}]", $"mov [{d + 16}], eax",
               $"mov eax, [edx+{Mc32 + Sc32.Ss}]", $"mov [{d + 24}], eax", "mov eax, [esp+8]", $"mov eax, [eax+{SiCode}]", $"mov [{d + 32}], eax",
               "mov ebx, 0", "mov eax, 1", "int 0x80"];
        var r = RaiseWithHandler(m, body, SignalAction.SaOnstack, Signal.SIGSEGV, Signal.SIGILL, Signal.SIGBUS);
        Assert.Null(r.Oops);
        Assert.Equal(0, m.Task.ExitStatus);
        Assert.Null(m.Task.KilledBy);
        if (kbits == 64)
        {
            Assert.Equal((uint)Signal.SIGSEGV, m.Memory.ReadUInt32(d));
            Assert.Equal(13UL, m.Memory.ReadUInt32(d + 8));
            Assert.Equal((ulong)(badSs & ~3), m.Memory.ReadUInt32(d + 16));
            Assert.Equal((uint)SiKernel, m.Memory.ReadUInt32(d + 32));
        }
        else
        {
            Assert.Equal((uint)Signal.SIGILL, m.Memory.ReadUInt32(d));
            Assert.Equal((ulong)TrapIret, m.Memory.ReadUInt32(d + 8));
            Assert.Equal(0UL, m.Memory.ReadUInt32(d + 16));
            Assert.Equal((uint)IllBadstk, m.Memory.ReadUInt32(d + 32));
        }
        Assert.Equal(badSs, (ushort)m.Memory.ReadUInt32(d + 24));
    }

    /// <summary>
    /// The i386 data segments: a 32-bit kernel takes them from the frame into pt_regs and its exit pops them — a
    /// selector the CPU refuses becomes 0 through RESTORE_REGS' fixup; a 64-bit kernel reloads (saved | 3) into the
    /// live register, a refused one loads null, and the IRET to ring 3 turns a ring-0 null with RPL 3 into 0.
    /// </summary>
    [Theory]
    [InlineData(32, 0x7b, 0x7b)]     // __USER_DS stays
    [InlineData(32, 0x00, 0x00)]     // the selftest's DS = 0
    [InlineData(32, 0x68, 0x00)]     // __KERNEL_DS: the ring-0 pop takes it, then IRET to ring 3 nulls a DPL-0 data segment
    [InlineData(32, 0x73, 0x73)]     // __USER_CS is a readable code segment: a valid DS
    [InlineData(32, 0x0b, 0x00)]     // an empty GDT entry: the pop faults, the fixup pops 0
    [InlineData(64, 0x2b, 0x2b)]
    [InlineData(64, 0x00, 0x00)]     // 0 | 3 = 3 is loaded, then IRET clears it
    [InlineData(64, 0x3b, 0x00)]     // an empty GDT entry: loadsegment's fixup loads null
    [InlineData(64, 0x18, 0x00)]     // __KERNEL_DS | 3: RPL 3 > DPL 0 refuses the load
    public void DsFromAnI386FrameIsWhatTheKernelsRulesLeave(int kbits, ushort requested, ushort expected)
    {
        var m = Machine("linux-6.18", 32, kbits);
        ulong d = m.UserDataArea;
        var r = RaiseWithHandler(m, ["mov edx, [esp+12]", $"mov dword ptr [edx+{Mc32 + Sc32.Ds}], {requested}", "ret"]);
        Assert.True(r.Outcome == "ran to the end of the code", r.Outcome);
        Assert.Null(r.Oops);
        Assert.Equal((ulong)expected, r.After.Ds);
        if (kbits == 32 && requested == 0x0b)
            Assert.Contains(r.KernelEntries, e => e.CFunctions.Any(f => f.StartsWith("fixup_exception(restore_pop_ds", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData(64)]
    [InlineData(32)]
    public void AnI386HandlerRunsWithUserDsInDsAndEsAndTheFrameKeepsTheOldOnes(int kbits)
    {
        var m = Machine("linux-4.4", 32, kbits);
        ulong d = m.UserDataArea;
        ushort userDs = kbits == 64 ? Selectors.X64.UserDs : Selectors.X86.UserDs;
        var r = RaiseWithHandler(m, ["mov eax, ds", $"mov [{d}], eax", "mov eax, es", $"mov [{d + 4}], eax",
            "mov edx, [esp+12]", $"mov eax, [edx+{Mc32 + Sc32.Es}]", $"mov [{d + 8}], eax", "ret"],
            0);
        Assert.True(r.Outcome == "ran to the end of the code", r.Outcome);
        Assert.Equal(userDs, (ushort)m.Memory.ReadUInt32(d));
        Assert.Equal(userDs, (ushort)m.Memory.ReadUInt32(d + 4));
        Assert.Equal(userDs, (ushort)m.Memory.ReadUInt32(d + 8));
    }

    [Theory]
    [InlineData((int)Vector.NP, Signal.SIGBUS)]     // DO_ERROR(X86_TRAP_NP, SIGBUS, "segment not present")
    [InlineData((int)Vector.SS, Signal.SIGBUS)]     // DO_ERROR(X86_TRAP_SS, SIGBUS, "stack segment")
    [InlineData((int)Vector.GP, Signal.SIGSEGV)]
    public void UserSegmentFaultsGiveTheTrapsCSignal(int vector, int signal)
    {
        var m = Machine("linux-6.18", 64);
        // A not-present or otherwise refused selector loaded from user mode: build the descriptor in the GDT's
        // unused entry 7 (0x3b) for #NP / #SS, use the kernel's data segment for #GP.
        ulong gdt = m.Cpu.Gdtr.Base;
        ulong desc = SyscallTools.Core.Cpu.Cpu.MakeDescriptor(0, 0xFFFFF, 0x3, s: true, 3, present: false, l: false, d: true, g: true);
        m.Memory.WriteUInt64(gdt + 0x38, desc);
        string[] code = vector switch
        {
            Vector.NP => ["mov eax, 0x3b", "mov ds, eax"],
            Vector.SS => ["mov eax, 0x3b", "mov ss, eax"],
            _ => ["mov eax, 0x1b", "mov ds, eax"],
        };
        var r = m.RunUserCode(IntelSyntax.Assemble(code, 64, m.UserCodeAddress));
        Assert.Equal(signal, m.Task.KilledBy);
        Assert.Null(r.Oops);
    }

    [Fact]
    public void Int3ReportsErrorCodeZeroInTheFrame()
    {
        // idtentry passes error_code 0 for vectors without one; the -1 pushed in its place is orig_ax only.
        var m = Machine("linux-6.18", 64);
        ulong d = m.UserDataArea;
        ulong handler = m.UserText + 0x100;
        m.Memory.WriteBytes(handler, IntelSyntax.Assemble([$"mov rax, [rdx+{Mc64 + Sc64.Err}]", $"mov [{d}], rax", "ret"], 64, handler));
        m.Memory.WriteBytes(m.UserText + 0xF00, [0xB8, 15, 0, 0, 0, 0x0F, 0x05]);
        m.Memory.WriteUInt64(d, 0x5555);
        m.SignalState.Actions[Signal.SIGTRAP] = new SignalAction(handler, SignalAction.SaSiginfo | SignalAction.SaRestorer, m.UserText + 0xF00, 0);
        var r = m.RunUserCode(IntelSyntax.Assemble(["int3", "nop"], 64, m.UserCodeAddress));
        Assert.True(r.Outcome == "ran to the end of the code", r.Outcome);
        Assert.Equal(0UL, m.Memory.ReadUInt64(d));
    }
}
