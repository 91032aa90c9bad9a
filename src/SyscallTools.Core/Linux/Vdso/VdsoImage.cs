using SyscallTools.Core.Elf;
using SyscallTools.Core.Elf.Cfi;

namespace SyscallTools.Core.Linux.Vdso;

/// <summary>An alternative site (struct alt_instr): at Offset, Length bytes are replaced when Feature is present.</summary>
public sealed record Alternative(int Offset, int Length, string Feature, byte[] Replacement);

/// <summary>
/// A 32-bit vDSO image as mapped into a task: its bytes, the offsets of the symbols the kernel needs
/// (vdso_image_32.sym_*), which entry it uses, and the alternative sites still to patch.
/// </summary>
public sealed class VdsoImage
{
    public required byte[] Bytes { get; init; }
    /// <summary>Symbol name → offset from the image base.</summary>
    public required IReadOnlyDictionary<string, int> Symbols { get; init; }
    public required IReadOnlyList<Alternative> Alternatives { get; init; }
    /// <summary>"sysenter", "syscall" or "int80": what __kernel_vsyscall uses once alternatives are applied.</summary>
    public string EntryVariant { get; internal set; } = "int80";
    /// <summary>Which image this is: "unified" (v4.3+) or the pre-rewrite "sysenter", "syscall", "int80" images.</summary>
    public required string Flavor { get; init; }

    /// <summary>How many bytes the mapping takes (whole pages).</summary>
    public int MappedSize { get; init; } = VdsoBuilder.ImageSize;
    /// <summary>The ELF file as read, when the mapped bytes are not the file (an import lays out its PT_LOADs and
    /// leaves out what lies past them, such as the section headers); null when <see cref="Bytes"/> is the file.</summary>
    public byte[]? File { get; init; }
    /// <summary>The file an imported image came from (Import-EmuVdso), or null for a built one.</summary>
    public string? SourcePath { get; init; }
    /// <summary>What the import had to work out or change (symbol or byte search, slot re-patched), in words.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    public int KernelVsyscall => Symbols["__kernel_vsyscall"];

    private (ulong Base, EhFrame Frame)? _ehFrame;
    /// <summary>The image's .eh_frame (and .eh_frame_hdr) with addresses as mapped at <paramref name="baseAddress"/>.</summary>
    /// <exception cref="ElfFormatException">The image's CFI is malformed or missing.</exception>
    public EhFrame ReadEhFrame(ulong baseAddress)
    {
        if (_ehFrame is { } c && c.Base == baseAddress) return c.Frame;
        var frame = EhFrame.FromElf(new ElfReader(File ?? Bytes), baseAddress);
        _ehFrame = (baseAddress, frame);
        return frame;
    }
    private int? _landingPad;
    private bool _landingPadKnown;
    /// <summary>sym_int80_landing_pad (looked up once: the kernel reads it on every fast system call).</summary>
    public int? LandingPad
    {
        get
        {
            if (!_landingPadKnown) { _landingPad = Symbols.TryGetValue("int80_landing_pad", out var v) ? v : null; _landingPadKnown = true; }
            return _landingPad;
        }
    }
    public int? SysenterReturn => Symbols.TryGetValue("SYSENTER_RETURN", out var v) ? v : null;

    /// <summary>apply_alternatives(): patch each site whose feature the CPU has (in list order, so a later one wins, as ALTERNATIVE_2 does).</summary>
    public void ApplyAlternatives(IReadOnlySet<string> features)
    {
        foreach (var alt in Alternatives)
        {
            if (!features.Contains(alt.Feature)) continue;
            alt.Replacement.CopyTo(Bytes, alt.Offset);
            EntryVariant = alt.Feature is "X86_FEATURE_SYSCALL32" ? "syscall" : "sysenter";
        }
    }
}
