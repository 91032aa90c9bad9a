using SyscallTools.Core.Cpu;
using SyscallTools.Core.Elf;
using SyscallTools.Core.Elf.Cfi;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Models;
using SyscallTools.Core.Linux.Vdso;
using Xunit;
using Xunit.Abstractions;
using CfiFrame = SyscallTools.Core.Elf.Cfi.EhFrame;

namespace SyscallTools.Core.Tests.ElfTests;

/// <summary>
/// The DWARF CFI reader and unwinder: on images the GNU toolchain made from .cfi_* directives (Images/cfi32.S), on
/// this machine's own 32-bit vDSO (Images/host-vdso32.so) and on every image VdsoBuilder makes, each checked row by
/// row against <c>readelf --debug-dump=frames-interp</c>; then unwinding with known stacks; then bad input.
/// </summary>
public class CfiTests(ITestOutputHelper output)
{
    public const string Cfi32 = "cfi32.so", HostVdso = "host-vdso32.so";

    /// <summary>Every image the builder makes: the unified one per kernel bitness and the three pre-rewrite ones.</summary>
    public static TheoryData<string> BuiltImages => new() { "unified-64", "unified-32", "sysenter", "syscall", "int80" };

    public static byte[] Built(string which)
    {
        var (model, bits, features) = which switch
        {
            "unified-64" => ((KernelModel)new Linux618(), 64, new HashSet<string> { "X86_FEATURE_SYSCALL32" }),
            "unified-32" => (new Linux44(), 32, new HashSet<string> { "X86_FEATURE_SEP" }),
            "sysenter" => (new Linux42(), 64, new HashSet<string> { "X86_FEATURE_SYSENTER32" }),
            "syscall" => (new Linux42(), 64, new HashSet<string> { "X86_FEATURE_SYSCALL32" }),
            _ => (new Linux42(), 64, new HashSet<string>()),
        };
        var image = VdsoBuilder.Build(model, bits, features);
        Assert.Equal(which.StartsWith("unified") ? "unified" : which, image.Flavor);
        return image.Bytes;
    }

    public static TheoryData<string> AllImages => new() { Cfi32, HostVdso, "built:unified-64", "built:unified-32", "built:sysenter", "built:syscall", "built:int80" };

    private static byte[] Load(string name) => name.StartsWith("built:") ? Built(name[6..]) : TestImages.Load(name);

    [Theory]
    [MemberData(nameof(AllImages))]
    public void EveryRowMatchesReadelfFramesInterp(string name)
    {
        string? readelf = Binutils.Find("readelf");
        if (readelf is null)
        {
            output.WriteLine("NOTE: readelf is not on PATH; the cross-check with binutils was skipped.");
            return;
        }
        var bytes = Load(name);
        var frame = CfiFrame.FromElf(new ElfReader(bytes));
        var expected = ReadelfFrames.Parse(Binutils.WithTempFile(bytes, p => Binutils.Run(readelf, "--debug-dump=frames-interp", p).Out));
        Assert.NotEmpty(expected);
        Assert.Equal(expected.Count, frame.Fdes.Count);
        foreach (var (want, got) in expected.Zip(frame.Fdes))
        {
            Assert.Equal((want.PcBegin, want.PcEnd), (got.PcBegin, got.PcEnd));
            if (want.Rows.Count == 0)
            {
                // An FDE without instructions: readelf prints no table; the CIE's rules hold for the whole range.
                Assert.Equal(got.Cie.InitialRow with { Start = got.PcBegin, End = got.PcEnd }, got.Rows.Single(), RowComparer);
                continue;
            }
            Assert.Equal(want.Rows.Select(r => r.Loc), got.Rows.Select(r => r.Start));
            foreach (var row in want.Rows)
            {
                var ours = got.RowAt(row.Loc)!;
                output.WriteLine($"{name}: {ours}");
                Assert.Equal(row.Cfa, ours.Cfa.ToString());
                foreach (var (column, value) in row.Columns)
                {
                    int reg = column == "ra" ? got.Cie.ReturnAddressRegister : Array.IndexOf(Dwarf.I386RegisterNames, column);
                    Assert.True(reg >= 0, $"readelf column {column}");
                    string mine = ours.Registers.TryGetValue(reg, out var rule) ? rule.ToString() : "u";
                    string theirs = value.StartsWith('r') && value.Contains('(') ? value[(value.IndexOf('(') + 1)..^1] : value;
                    Assert.True(theirs == mine, $"{name} at 0x{row.Loc:x}: {column} is {value} for readelf, {mine} here");
                }
            }
        }
        // .eh_frame_hdr: one entry per FDE, sorted, each leading to its FDE.
        Assert.NotNull(frame.Header);
        Assert.Equal(frame.Fdes.Count, frame.Header!.Table.Count);
        foreach (var fde in frame.Fdes) Assert.Same(fde, frame.FindFde(fde.PcBegin));
    }

    private static readonly EqualityComparer<CfiRow> RowComparer = EqualityComparer<CfiRow>.Create(
        (a, b) => a!.ToString() == b!.ToString() && a.End == b.End, r => r.ToString().GetHashCode());

    [Fact]
    public void ToolchainImageHasTheRulesTheDirectivesAsked()
    {
        var frame = CfiFrame.FromElf(new ElfReader(TestImages.Load(Cfi32)));
        Assert.Equal(["zR", "zRS"], frame.Cies.Select(c => c.Augmentation).ToArray());
        Assert.True(frame.Cies[1].IsSignalFrame);
        Assert.Equal(Dwarf.DW_EH_PE_pcrel | Dwarf.DW_EH_PE_sdata4, frame.Cies[0].FdeEncoding);
        // vsyscall_like at 0x170: after the three pushes CFA=esp+16, ebp at CFA-16.
        Assert.Equal("0x173: CFA=esp+16 ecx=c-8 edx=c-12 ebp=c-16 eip=c-4", frame.RowAt(0x175)!.ToString());
        // framed: .cfi_restore_state brings back the rules remembered before the early return.
        Assert.Equal(frame.RowAt(0x18a)!.Cfa, frame.RowAt(0x18d)!.Cfa);
        Assert.Equal(CfaRule.At(Dwarf.Esp, 4), frame.RowAt(0x18c)!.Cfa);
        Assert.Equal(new RegisterRule(RegisterRuleKind.Register, Register: Dwarf.Edi), frame.RowAt(0x186)!.Rule(Dwarf.Esi));
        Assert.Null(frame.FindFde(0x17e));                         // padding between functions
    }

    /// <summary>A little stack: word i at 0x1000 + 4i.</summary>
    private static Func<uint, uint?> Stack(params uint[] words) =>
        a => a >= 0x1000 && a < 0x1000 + 4 * words.Length && a % 4 == 0 ? words[(a - 0x1000) / 4] : null;

    [Fact]
    public void UnwindsAFramePointerFunctionAfterRestoreState()
    {
        var frame = CfiFrame.FromElf(new ElfReader(TestImages.Load(Cfi32)));
        // At 0x18f (after mov esi,edi restored esi): ebp = 0x1004, [ebp-4] = saved ebx, [ebp] = old ebp, [ebp+4] = return.
        uint[] regs = [1, 2, 3, 0x33, 0x0ff0, 0x1004, 0x66, 0x77];
        var u = CfiUnwinder.Unwind(frame, 0x18f, regs, Stack(0xB0B0, 0xEBEB, 0xCA11E5));
        Assert.Equal(0x100cu, u.Cfa);
        Assert.Equal(0xCA11E5u, u.ReturnAddress);
        Assert.Equal(0xB0B0u, u[Dwarf.Ebx]);
        Assert.Equal(0xEBEBu, u[Dwarf.Ebp]);
        Assert.Equal(0x66u, u[Dwarf.Esi]);
        // At 0x186 the caller's esi is held in edi.
        var v = CfiUnwinder.Unwind(frame, 0x186, regs, Stack(0xB0B0, 0xEBEB, 0xCA11E5));
        Assert.Equal(0x77u, v[Dwarf.Esi]);
    }

    [Fact]
    public void UnwindsASignalTrampolineWithExpressionRules()
    {
        var frame = CfiFrame.FromElf(new ElfReader(TestImages.Load(Cfi32)));
        // esp = 0x1000 points at sigframe.sig; sc follows: sc.sp at +4+28, sc.bx at +4+32, sc.ax at +4+44, sc.ip at +4+56.
        var words = new uint[32];
        words[(4 + 28) / 4] = 0xBFFF0000; words[(4 + 32) / 4] = 0xB;
        words[(4 + 44) / 4] = 0xA; words[(4 + 56) / 4] = 0x08048123;
        uint[] regs = [0, 0, 0, 0, 0x1000, 0, 0, 0];
        var u = CfiUnwinder.Unwind(frame, 0x1a0, regs, Stack(words));
        Assert.Equal(0xBFFF0000u, u.Cfa);
        Assert.Equal(0x08048123u, u.ReturnAddress);
        Assert.Equal(0xAu, u[Dwarf.Eax]);
        Assert.Equal(0xBu, u[Dwarf.Ebx]);
        // After popl %eax, esp is 4 higher and the rules are 4 lower: same answers.
        var after = CfiUnwinder.Unwind(frame, 0x1a1, [0, 0, 0, 0, 0x1004, 0, 0, 0], Stack(words));
        Assert.Equal((u.Cfa, u.ReturnAddress, u[Dwarf.Eax]), (after.Cfa, after.ReturnAddress, after[Dwarf.Eax]));
    }

    [Fact]
    public void ExpressionEvaluatorCoversTheOperationsRulesUse()
    {
        uint Reg(int r) => (uint)(r * 0x100);
        uint? Mem(uint a) => a == 0x520 ? 0xDEAD : null;
        Assert.Equal(0x520u, DwarfExpression.Evaluate([0x75, 0x20], Reg, Mem));                    // breg5 +32
        Assert.Equal(0xDEADu, DwarfExpression.Evaluate([0x75, 0x20, 0x06], Reg, Mem));              // … deref
        Assert.Equal(0x20u, DwarfExpression.Evaluate([0x40, 0x30, 0x22, 0x23, 0x10], Reg, Mem));    // lit16 lit0 plus plus_uconst 16
        Assert.Equal(0x1334u, DwarfExpression.Evaluate([0x92, 0x03, 0xb4, 0x20], Reg, Mem, 0));      // bregx 3 (0x300) + 0x1034
        Assert.Throws<CfiUnwindException>(() => DwarfExpression.Evaluate([0x30, 0x06], Reg, Mem));   // deref of 0
        Assert.Throws<CfiUnwindException>(() => DwarfExpression.Evaluate([0x22], Reg, Mem));         // underflow
        Assert.Throws<CfiUnwindException>(() => DwarfExpression.Evaluate([0xe0], Reg, Mem));         // DW_OP_lo_user
    }

    [Fact]
    public void TruncatedAndCorruptedEhFramesAreFormatErrors()
    {
        var elf = new ElfReader(TestImages.Load(Cfi32));
        var section = elf.GetSection(".eh_frame")!;
        var good = section.Bytes.ToArray();
        // Cut inside the second FDE: its length now runs past the end.
        var e1 = Assert.Throws<ElfFormatException>(() => CfiFrame.Parse(good.AsSpan(0, 0x50), section.Address));
        Assert.Contains("truncated", e1.Message);
        // An FDE whose CIE pointer leads nowhere.
        var bad = (byte[])good.Clone();
        BitConverter.GetBytes(0x7777u).CopyTo(bad, 0x18 + 4);
        Assert.Contains("CIE", Assert.Throws<ElfFormatException>(() => CfiFrame.Parse(bad, section.Address)).Message);
        // An unknown call frame instruction in the first FDE (its first instruction byte).
        bad = (byte[])good.Clone();
        bad[0x18 + 17] = 0x3f;
        Assert.Contains("not supported", Assert.Throws<ElfFormatException>(() => CfiFrame.Parse(bad, section.Address)).Message);
        // Every truncation of the section either parses (cut at an entry boundary) or is an ElfFormatException.
        for (int n = 0; n < good.Length; n++)
        {
            try { CfiFrame.Parse(good.AsSpan(0, n), section.Address); }
            catch (ElfFormatException) { }
        }
    }

    [Fact]
    public void EveryCorruptedByteIsAFormatErrorOrParses()
    {
        // Each byte of .eh_frame and .eh_frame_hdr set to a few hostile values: parsing and unwinding either work
        // or fail with ElfFormatException / CfiUnwindException, never another exception and never a hang.
        var elf = new ElfReader(TestImages.Load(Cfi32));
        var frame = elf.GetSection(".eh_frame")!;
        var hdr = elf.GetSection(".eh_frame_hdr")!;
        foreach (var (section, isHeader) in new[] { (frame, false), (hdr, true) })
        {
            var good = section.Bytes.ToArray();
            for (int i = 0; i < good.Length; i++)
                foreach (byte v in new byte[] { 0x00, 0x7f, 0x80, 0xff })
                {
                    var bad = (byte[])good.Clone();
                    bad[i] = v;
                    try
                    {
                        var header = isHeader ? CfiFrame.ParseHeader(bad, hdr.Address) : null;
                        var parsed = CfiFrame.Parse(isHeader ? frame.Bytes.Span : bad, frame.Address, header);
                        foreach (ulong pc in new ulong[] { 0x170, 0x175, 0x18d, 0x1a0, 0x1a1 })
                            try { CfiUnwinder.Unwind(parsed, pc, [0, 0, 0, 0, 0x1000, 0x1004, 0, 0], Stack(new uint[64])); }
                            catch (CfiUnwindException) { }
                    }
                    catch (ElfFormatException) { }
                }
        }
    }

    [Fact]
    public void WithoutSectionHeadersTheCfiIsFoundThroughPtGnuEhFrame()
    {
        // What libgcc does: dl_iterate_phdr, PT_GNU_EH_FRAME, eh_frame_ptr. Drop the section headers to force that path.
        var bytes = TestImages.Load(Cfi32);
        BitConverter.GetBytes(0u).CopyTo(bytes, 32);               // e_shoff
        BitConverter.GetBytes((ushort)0).CopyTo(bytes, 48);        // e_shnum
        BitConverter.GetBytes((ushort)0).CopyTo(bytes, 50);        // e_shstrndx
        var viaPhdr = CfiFrame.FromElf(new ElfReader(bytes), 0x1000_0000);
        var viaSections = CfiFrame.FromElf(new ElfReader(TestImages.Load(Cfi32)), 0x1000_0000);
        Assert.Equal(viaSections.Fdes.Count, viaPhdr.Fdes.Count);
        Assert.Equal(viaSections.RowAt(0x1000_0175)!.ToString(), viaPhdr.RowAt(0x1000_0175)!.ToString());
        Assert.Equal(0x1000_0170UL, viaPhdr.Fdes[0].PcBegin);
    }

    [Fact]
    public void SignalFrameFdesOfTheBuiltVdsoRecoverTheInterruptedContext()
    {
        foreach (var (model, vendor, rt) in new[] { ("linux-6.18", "amd", false), ("linux-6.18", "intel", true), ("linux-4.2", "amd", true), ("linux-4.4", "intel", false) })
        {
            var m = new LinuxMachine(KernelModel.Find(model)!, vendor == "intel" ? CpuProfile.IntelSkylake : CpuProfile.AmdZen3, 64, 32);
            ulong handler = m.UserText + 0x100;
            m.Memory.WriteBytes(handler, [0xC3]);                                            // the handler just returns
            m.SignalState.Actions[Signal.SIGUSR1] = new SignalAction(handler, rt ? SignalAction.SaSiginfo : 0, 0, 0);
            string name = rt ? "__kernel_rt_sigreturn" : "__kernel_sigreturn";
            ulong trampoline = m.Task.VdsoBase + (ulong)m.Vdso!.Symbols[name];
            m.InvokeSyscall(37, [(ulong)m.Task.Pid, Signal.SIGUSR1], EntryMethod.Vdso, beforeRun: c => c.AddStopAddress(trampoline));
            m.Cpu.RemoveStopAddress(trampoline);
            Assert.Equal(trampoline, m.Cpu.Rip);
            var frame = m.Vdso.ReadEhFrame(m.Task.VdsoBase);
            Assert.True(frame.FindFde(trampoline)!.Cie.IsSignalFrame);
            // Unwind at each trampoline instruction, then let sigreturn restore the truth.
            var unwound = new List<UnwindResult>();
            while (m.Cpu.Cpl == 3 && m.Cpu.Rip >= trampoline && m.Cpu.Rip < trampoline + 8)
            {
                uint[] regs = Enumerable.Range(0, 8).Select(r => (uint)m.Cpu[(Gpr)r]).ToArray();   // Gpr order is DWARF order
                unwound.Add(CfiUnwinder.Unwind(frame, m.Cpu.Rip, regs, a => m.Memory.TryReadBytes(a, new byte[4]) ? m.Memory.ReadUInt32(a) : null));
                m.Cpu.Run(1);
                while (m.Cpu.Cpl != 3) m.Cpu.Run(1);
            }
            Assert.Equal(rt ? 2 : 3, unwound.Count);
            foreach (var u in unwound)
            {
                output.WriteLine($"{model} {name} 0x{u.Pc:x}: {u.Row} -> ra 0x{u.ReturnAddress:x} cfa 0x{u.Cfa:x}");
                Assert.Equal((uint)m.Cpu.Rip, u.ReturnAddress);
                Assert.Equal((uint)m.Cpu[Gpr.Rsp], u.Cfa);
                foreach (int r in new[] { Dwarf.Eax, Dwarf.Ecx, Dwarf.Edx, Dwarf.Ebx, Dwarf.Ebp, Dwarf.Esi, Dwarf.Edi })
                    Assert.True((uint)m.Cpu[(Gpr)r] == u[r], $"{Dwarf.RegisterName(r)}: 0x{u[r]:x} unwound, 0x{(uint)m.Cpu[(Gpr)r]:x} after sigreturn");
            }
        }
    }
}
