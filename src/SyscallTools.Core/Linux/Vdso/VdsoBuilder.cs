using SyscallTools.Core.Elf;
using SyscallTools.Core.Elf.Cfi;
using SyscallTools.Core.Linux.Models;

namespace SyscallTools.Core.Linux.Vdso;

/// <summary>
/// Builds the 32-bit vDSO code (arch/x86/entry/vdso/vdso32/system_call.S and sigreturn.S; for pre-rewrite models
/// the separate sysenter.S, syscall.S and int80.S images). The text starts at <see cref="TextOffset"/>, after room
/// for the ELF headers. Every image carries .eh_frame and .eh_frame_hdr as the kernel's do: a "zR" CIE with an FDE
/// describing each push and pop of __kernel_vsyscall, and a "zRS" (signal frame) CIE whose FDEs locate the
/// registers in the sigframe / rt_sigframe for the sigreturn trampolines (vdso32/sigreturn.S).
/// </summary>
public static class VdsoBuilder
{
    public const int TextOffset = 0x400;
    public const int ImageSize = 0x2000;
    public const int NrSigreturn = 119, NrRtSigreturn = 173;

    /// <summary>The image for a model: the unified one after the rewrite, else the one the pre-rewrite kernel picks.</summary>
    /// <param name="breakCfiAt">Tests only: write the DW_CFA_def_cfa_offset with this index (0 = first) in
    /// __kernel_vsyscall's FDE 4 bytes too large, so an unwinder goes wrong at exactly the instructions it covers.</param>
    public static VdsoImage Build(KernelModel model, int kernelBits, IReadOnlySet<string> features, int? breakCfiAt = null)
    {
        VdsoImage image;
        if (model.Generation == EntryGeneration.PreRewrite)
        {
            // vdso32-setup.c: 64-bit kernels prefer SYSCALL32 (AMD), then SYSENTER32 (Intel); 32-bit kernels SEP; else int80.
            string flavor = kernelBits == 64
                ? features.Contains("X86_FEATURE_SYSCALL32") ? "syscall" : features.Contains("X86_FEATURE_SYSENTER32") ? "sysenter" : "int80"
                : features.Contains("X86_FEATURE_SEP") ? "sysenter" : "int80";
            image = BuildOld(flavor, breakCfiAt);
        }
        else
        {
            image = BuildUnified(kernelBits, breakCfiAt);
            image.ApplyAlternatives(features);
        }
        return image;
    }

    private static VdsoImage BuildUnified(int kernelBits, int? breakCfiAt)
    {
        var code = new List<byte>();
        var syms = new Dictionary<string, int>();
        void At(string name) => syms[name] = TextOffset + code.Count;
        At("__kernel_vsyscall");
        code.AddRange([0x51, 0x52, 0x55]);                   // push ecx; push edx; push ebp
        int slot = TextOffset + code.Count;
        code.AddRange([0x0F, 0x1F, 0x40, 0x00]);             // the alternative slot, unpatched: a 4-byte NOP
        code.AddRange([0xCD, 0x80]);                         // int $0x80
        At("int80_landing_pad");
        code.AddRange([0x5D, 0x5A, 0x59, 0xC3]);             // pop ebp; pop edx; pop ecx; ret
        // system_call.S's CFI_* annotations. The slot's SYSENTER/SYSCALL return to the landing pad, never after
        // themselves, so nothing changes across the slot or int $0x80 (a MOV to EBP is covered: ebp is on the stack).
        var fdes = new List<Fde> { new("__kernel_vsyscall", 0, code.Count, PushPopCfi(breakCfiAt, pushesAt: 0, popsAt: 9)) };
        AddSigreturn(code, syms, fdes);
        var alts = new List<Alternative>();
        byte[] sysenter = [0x89, 0xE5, 0x0F, 0x34];          // movl %esp,%ebp; sysenter
        byte[] syscall = [0x89, 0xCD, 0x0F, 0x05];           // movl %ecx,%ebp; syscall
        if (kernelBits == 64)
        {
            // ALTERNATIVE_2 "", SYSENTER if X86_FEATURE_SYSENTER32, SYSCALL if X86_FEATURE_SYSCALL32.
            alts.Add(new Alternative(slot, 4, "X86_FEATURE_SYSENTER32", sysenter));
            alts.Add(new Alternative(slot, 4, "X86_FEATURE_SYSCALL32", syscall));
        }
        else
        {
            alts.Add(new Alternative(slot, 4, "X86_FEATURE_SEP", sysenter));
        }
        return Finish(code, syms, alts, "unified", fdes);
    }

    private static VdsoImage BuildOld(string flavor, int? breakCfiAt)
    {
        var code = new List<byte>();
        CfiProgram cfi;
        var syms = new Dictionary<string, int>();
        void At(string name) => syms[name] = TextOffset + code.Count;
        At("__kernel_vsyscall");
        switch (flavor)
        {
            case "sysenter":
                code.AddRange([0x51, 0x52, 0x55, 0x89, 0xE5, 0x0F, 0x34]); // push ecx; push edx; push ebp; mov ebp,esp; sysenter
                code.AddRange(Enumerable.Repeat((byte)0x90, 7));           // ".space 7,0x90"
                code.AddRange([0xCD, 0x80]);                               // int $0x80: the restart point (SYSENTER_RETURN-2)
                At("SYSENTER_RETURN");
                code.AddRange([0x5D, 0x5A, 0x59, 0xC3]);
                // The hand-written table of sysenter.S (CFA 4 -> 8 -> 12 -> 16 and back), with ecx and edx recorded too.
                cfi = PushPopCfi(breakCfiAt, pushesAt: 0, popsAt: 16);
                break;
            case "syscall":
                code.AddRange([0x55, 0x89, 0xCD, 0x0F, 0x05]);             // push ebp; mov ebp,ecx; syscall
                code.AddRange([0xB9, 0x2B, 0x00, 0x00, 0x00, 0x8E, 0xD1]); // mov ecx,__USER32_DS; mov ss,ecx
                code.AddRange([0x89, 0xE9, 0x5D, 0xC3]);                   // mov ecx,ebp; pop ebp; ret
                // syscall.S's table (CFA 4 -> 8, ebp at CFA-8), plus where ecx lives: SYSCALL returns with ecx
                // clobbered and the caller's ecx in ebp until "mov ecx,ebp" puts it back.
                cfi = new CfiProgram { BreakDefCfaOffset = breakCfiAt }
                    .At(1).DefCfaOffset(8).Offset(Dwarf.Ebp, -8)
                    .At(5).Register(Dwarf.Ecx, Dwarf.Ebp)
                    .At(14).Restore(Dwarf.Ecx)
                    .At(15).Restore(Dwarf.Ebp).DefCfaOffset(4);
                break;
            default:
                code.AddRange([0xCD, 0x80, 0xC3]);                         // int $0x80; ret
                cfi = new CfiProgram();                                    // nothing pushed: the CIE's rules hold throughout
                break;
        }
        var fdes = new List<Fde> { new("__kernel_vsyscall", 0, code.Count, cfi) };
        AddSigreturn(code, syms, fdes);
        var image = Finish(code, syms, [], flavor, fdes);
        image.EntryVariant = flavor;
        return image;
    }

    /// <summary>An FDE to emit: the function it covers (offsets relative to the symbol), its rules, which CIE.</summary>
    private sealed record Fde(string Symbol, int Start, int Length, CfiProgram Cfi, bool SignalFrame = false);

    /// <summary>push ecx; push edx; push ebp at pushesAt..+2, pop ebp; pop edx; pop ecx; ret at popsAt..+3.</summary>
    private static CfiProgram PushPopCfi(int? breakCfiAt, int pushesAt, int popsAt) =>
        new CfiProgram { BreakDefCfaOffset = breakCfiAt }
            .At(pushesAt + 1).DefCfaOffset(8).Offset(Dwarf.Ecx, -8)
            .At(pushesAt + 2).DefCfaOffset(12).Offset(Dwarf.Edx, -12)
            .At(pushesAt + 3).DefCfaOffset(16).Offset(Dwarf.Ebp, -16)
            .At(popsAt + 1).Restore(Dwarf.Ebp).DefCfaOffset(12)
            .At(popsAt + 2).Restore(Dwarf.Edx).DefCfaOffset(8)
            .At(popsAt + 3).Restore(Dwarf.Ecx).DefCfaOffset(4);

    /// <summary>
    /// __kernel_sigreturn and __kernel_rt_sigreturn (vdso32/sigreturn.S), 16-byte aligned as there, each preceded by
    /// a NOP: their FDEs start one byte early because unwinders look up return address - 1.
    /// </summary>
    private static void AddSigreturn(List<byte> code, Dictionary<string, int> syms, List<Fde> fdes)
    {
        code.Add(0x90);
        while (code.Count % 16 != 0) code.Add(0x90);
        syms["__kernel_sigreturn"] = TextOffset + code.Count;
        code.Add(0x58);                                                    // popl %eax
        code.Add(0xB8); code.AddRange(BitConverter.GetBytes(NrSigreturn)); // movl $__NR_sigreturn, %eax
        code.AddRange([0xCD, 0x80]);                                       // int $0x80
        // On entry esp points at sigframe.sig (the handler's ret took pretcode): sc is at esp+4, and at esp once
        // "popl %eax" has run. The CFA is the interrupted esp saved in sc; every register is in sc too.
        fdes.Add(new("__kernel_sigreturn", -1, 1 + 8, SignalFrameCfi(SignalFrames.Frame32.Sc - 4, afterPop: 2), SignalFrame: true));
        code.Add(0x90);
        while (code.Count % 16 != 0) code.Add(0x90);
        syms["__kernel_rt_sigreturn"] = TextOffset + code.Count;
        code.Add(0xB8); code.AddRange(BitConverter.GetBytes(NrRtSigreturn));
        code.AddRange([0xCD, 0x80]);
        // rt_sigframe: nothing is popped, uc.uc_mcontext stays at esp + (its offset - 4).
        fdes.Add(new("__kernel_rt_sigreturn", -1, 1 + 7, SignalFrameCfi(SignalFrames.RtFrame32.UcMcontext - 4, afterPop: null), SignalFrame: true));
    }

    /// <summary>sigreturn.S's do_cfa_expr / do_expr rules: CFA = *(esp + sc + sp), reg at esp + sc + reg.</summary>
    private static CfiProgram SignalFrameCfi(int scFromEsp, int? afterPop)
    {
        var p = new CfiProgram();
        void Rules(int sc)
        {
            p.DefCfaExpression([.. CfiProgram.Breg(Dwarf.Esp, sc + SignalFrames.Sc32.Sp), Dwarf.DW_OP_deref]);
            (int Reg, int Off)[] saved =
            [
                (Dwarf.Eax, SignalFrames.Sc32.Ax), (Dwarf.Ecx, SignalFrames.Sc32.Cx), (Dwarf.Edx, SignalFrames.Sc32.Dx),
                (Dwarf.Ebx, SignalFrames.Sc32.Bx), (Dwarf.Ebp, SignalFrames.Sc32.Bp), (Dwarf.Esi, SignalFrames.Sc32.Si),
                (Dwarf.Edi, SignalFrames.Sc32.Di), (Dwarf.Eip, SignalFrames.Sc32.Ip),
            ];
            foreach (var (reg, off) in saved) p.Expression(reg, CfiProgram.Breg(Dwarf.Esp, sc + off));
        }
        Rules(scFromEsp);
        if (afterPop is int at) { p.At(at); Rules(scFromEsp - 4); }          // popl %eax moved esp up by 4
        return p;
    }

    /// <summary>
    /// Wraps the code in an ELF shared object (linux-gate.so.1) and reads the symbol offsets back from its symbol
    /// table, as vdso2c does when it generates vdso_image_32.sym_*.
    /// </summary>
    private static VdsoImage Finish(List<byte> code, Dictionary<string, int> syms, List<Alternative> alts, string flavor, List<Fde> fdes)
    {
        var elf = new ElfBuilder(0, TextOffset) { SoName = "linux-gate.so.1" };
        foreach (var (name, offset) in syms.OrderBy(kv => kv.Value))
        {
            bool exported = name.StartsWith("__kernel_", StringComparison.Ordinal);
            var fde = fdes.FirstOrDefault(f => f.Symbol == name);
            uint size = fde is null ? 0u : (uint)(fde.Length + fde.Start);
            elf.AddSymbol(name, (uint)offset, size, exported ? ElfSymbolType.STT_FUNC : ElfSymbolType.STT_NOTYPE,
                exported ? ElfSymbolBinding.STB_GLOBAL : ElfSymbolBinding.STB_LOCAL);
        }
        // .eh_frame's size does not depend on addresses, so it is declared first and encoded once Layout() has placed it.
        var eh = new EhFrameWriter();
        int cie = eh.AddStandardCie();
        int signalCie = eh.AddCie("zRS", []);
        foreach (var f in fdes)
            eh.AddFde(f.SignalFrame ? signalCie : cie, (uint)(syms[f.Symbol] + f.Start), (uint)f.Length, f.Cfi.Bytes);
        elf.AddSection(".eh_frame_hdr", ElfSectionType.SHT_PROGBITS, ElfSectionFlags.SHF_ALLOC, eh.HeaderSize, 4);
        elf.AddSection(".eh_frame", ElfSectionType.SHT_PROGBITS, ElfSectionFlags.SHF_ALLOC, eh.Size, 4);
        var layout = elf.Layout();
        uint hdrAt = layout.AddressOf(".eh_frame_hdr"), frameAt = layout.AddressOf(".eh_frame");
        var file = elf.Build(code.ToArray(), new Dictionary<string, byte[]>
        {
            [".eh_frame"] = eh.Encode(frameAt),
            [".eh_frame_hdr"] = eh.EncodeHeader(hdrAt, frameAt),
        });
        if (file.Length > ImageSize) throw new InvalidOperationException($"the vDSO image needs {file.Length} bytes, more than {ImageSize}");
        var bytes = new byte[ImageSize];
        file.CopyTo(bytes, 0);
        var reader = new ElfReader(bytes);
        var found = syms.Keys.ToDictionary(n => n, n => (int)(reader.FindSymbol(n)?.Value
            ?? throw new InvalidOperationException($"the vDSO image lost symbol {n}")));
        return new VdsoImage { Bytes = bytes, Symbols = found, Alternatives = alts, Flavor = flavor };
    }
}
