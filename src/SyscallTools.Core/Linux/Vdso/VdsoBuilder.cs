using SyscallTools.Core.Elf;
using SyscallTools.Core.Linux.Models;

namespace SyscallTools.Core.Linux.Vdso;

/// <summary>
/// Builds the 32-bit vDSO code (arch/x86/entry/vdso/vdso32/system_call.S and sigreturn.S; for pre-rewrite models
/// the separate sysenter.S, syscall.S and int80.S images). The text starts at <see cref="TextOffset"/>, after room
/// for the ELF headers.
/// </summary>
public static class VdsoBuilder
{
    public const int TextOffset = 0x400;
    public const int ImageSize = 0x2000;
    public const int NrSigreturn = 119, NrRtSigreturn = 173;

    /// <summary>The image for a model: the unified one after the rewrite, else the one the pre-rewrite kernel picks.</summary>
    public static VdsoImage Build(KernelModel model, int kernelBits, IReadOnlySet<string> features)
    {
        VdsoImage image;
        if (model.Generation == EntryGeneration.PreRewrite)
        {
            // vdso32-setup.c: 64-bit kernels prefer SYSCALL32 (AMD), then SYSENTER32 (Intel); 32-bit kernels SEP; else int80.
            string flavor = kernelBits == 64
                ? features.Contains("X86_FEATURE_SYSCALL32") ? "syscall" : features.Contains("X86_FEATURE_SYSENTER32") ? "sysenter" : "int80"
                : features.Contains("X86_FEATURE_SEP") ? "sysenter" : "int80";
            image = BuildOld(flavor);
        }
        else
        {
            image = BuildUnified(kernelBits);
            image.ApplyAlternatives(features);
        }
        return image;
    }

    private static VdsoImage BuildUnified(int kernelBits)
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
        AddSigreturn(code, syms);
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
        return Finish(code, syms, alts, "unified");
    }

    private static VdsoImage BuildOld(string flavor)
    {
        var code = new List<byte>();
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
                break;
            case "syscall":
                code.AddRange([0x55, 0x89, 0xCD, 0x0F, 0x05]);             // push ebp; mov ebp,ecx; syscall
                code.AddRange([0xB9, 0x2B, 0x00, 0x00, 0x00, 0x8E, 0xD1]); // mov ecx,__USER32_DS; mov ss,ecx
                code.AddRange([0x89, 0xE9, 0x5D, 0xC3]);                   // mov ecx,ebp; pop ebp; ret
                break;
            default:
                code.AddRange([0xCD, 0x80, 0xC3]);                         // int $0x80; ret
                break;
        }
        AddSigreturn(code, syms);
        var image = Finish(code, syms, [], flavor);
        image.EntryVariant = flavor;
        return image;
    }

    /// <summary>__kernel_sigreturn and __kernel_rt_sigreturn (vdso32/sigreturn.S), 16-byte aligned as there.</summary>
    private static void AddSigreturn(List<byte> code, Dictionary<string, int> syms)
    {
        while (code.Count % 16 != 0) code.Add(0x90);
        syms["__kernel_sigreturn"] = TextOffset + code.Count;
        code.Add(0x58);                                                    // popl %eax
        code.Add(0xB8); code.AddRange(BitConverter.GetBytes(NrSigreturn)); // movl $__NR_sigreturn, %eax
        code.AddRange([0xCD, 0x80]);                                       // int $0x80
        while (code.Count % 16 != 0) code.Add(0x90);
        syms["__kernel_rt_sigreturn"] = TextOffset + code.Count;
        code.Add(0xB8); code.AddRange(BitConverter.GetBytes(NrRtSigreturn));
        code.AddRange([0xCD, 0x80]);
    }

    /// <summary>
    /// Wraps the code in an ELF shared object (linux-gate.so.1) and reads the symbol offsets back from its symbol
    /// table, as vdso2c does when it generates vdso_image_32.sym_*.
    /// </summary>
    private static VdsoImage Finish(List<byte> code, Dictionary<string, int> syms, List<Alternative> alts, string flavor)
    {
        var elf = new ElfBuilder(0, TextOffset) { SoName = "linux-gate.so.1" };
        foreach (var (name, offset) in syms.OrderBy(kv => kv.Value))
        {
            bool exported = name.StartsWith("__kernel_", StringComparison.Ordinal);
            elf.AddSymbol(name, (uint)offset, 0, exported ? ElfSymbolType.STT_FUNC : ElfSymbolType.STT_NOTYPE,
                exported ? ElfSymbolBinding.STB_GLOBAL : ElfSymbolBinding.STB_LOCAL);
        }
        elf.Layout();
        var file = elf.Build(code.ToArray());
        if (file.Length > ImageSize) throw new InvalidOperationException($"the vDSO image needs {file.Length} bytes, more than {ImageSize}");
        var bytes = new byte[ImageSize];
        file.CopyTo(bytes, 0);
        var reader = new ElfReader(bytes);
        var found = syms.Keys.ToDictionary(n => n, n => (int)(reader.FindSymbol(n)?.Value
            ?? throw new InvalidOperationException($"the vDSO image lost symbol {n}")));
        return new VdsoImage { Bytes = bytes, Symbols = found, Alternatives = alts, Flavor = flavor };
    }
}
