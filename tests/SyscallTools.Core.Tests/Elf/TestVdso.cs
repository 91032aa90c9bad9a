using SyscallTools.Core.Elf;

namespace SyscallTools.Core.Tests.ElfTests;

/// <summary>
/// The 32-bit vDSO the ELF tests build: the kernel's __kernel_vsyscall (SYSENTER with the INT 0x80 fallback
/// and int80_landing_pad after it), the two sigreturn trampolines, a Linux version note, and .eh_frame with
/// .eh_frame_hdr generated against the addresses <see cref="ElfBuilder.Layout"/> returns. 100 bytes of text.
/// </summary>
internal static class TestVdso
{
    public const int TextOffset = 0x400;
    public const string SoName = "linux-gate.so.1";

    // Offsets in .text, as arch/x86/entry/vdso/vdso32 lays the functions out (32-byte aligned).
    public const int Vsyscall = 0x00, LandingPad = 0x09, Sigreturn = 0x20, RtSigreturn = 0x40;
    public const int VsyscallSize = 13, SigreturnSize = 8, RtSigreturnSize = 7, TextSize = 100;

    /// <summary>LINUX_VERSION_CODE 6.8.0 in an NT "Linux" note, as the vDSO's .note carries it.</summary>
    public static readonly byte[] Note = [6, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, (byte)'L', (byte)'i', (byte)'n', (byte)'u', (byte)'x', 0, 0, 0, 0x00, 0x08, 0x06, 0x00];

    public static byte[] Text()
    {
        var t = Enumerable.Repeat((byte)0xcc, TextSize).ToArray(); // int3 between functions
        // push ecx; push edx; push ebp; mov ebp,esp; sysenter; int 0x80; [int80_landing_pad:] pop ebp; pop edx; pop ecx; ret
        new byte[] { 0x51, 0x52, 0x55, 0x89, 0xe5, 0x0f, 0x34, 0xcd, 0x80, 0x5d, 0x5a, 0x59, 0xc3 }.CopyTo(t, Vsyscall);
        // pop eax; mov eax,__NR_sigreturn (119); int 0x80
        new byte[] { 0x58, 0xb8, 0x77, 0x00, 0x00, 0x00, 0xcd, 0x80 }.CopyTo(t, Sigreturn);
        // mov eax,__NR_rt_sigreturn (173); int 0x80
        new byte[] { 0xb8, 0xad, 0x00, 0x00, 0x00, 0xcd, 0x80 }.CopyTo(t, RtSigreturn);
        return t;
    }

    public sealed record Built(byte[] Image, ElfLayout Layout, byte[] Text, byte[] EhFrame, byte[] EhFrameHdr)
    {
        public uint Address(int textOffset) => Layout.TextAddress + (uint)textOffset;
    }

    public static ElfBuilder Builder(uint loadAddress)
    {
        uint text = loadAddress + TextOffset;
        var b = new ElfBuilder(loadAddress, TextOffset) { SoName = SoName, Entry = text + Vsyscall };
        b.AddSymbol("__kernel_vsyscall", text + Vsyscall, VsyscallSize, ElfSymbolType.STT_FUNC, ElfSymbolBinding.STB_GLOBAL);
        b.AddSymbol("int80_landing_pad", text + LandingPad, 0, ElfSymbolType.STT_NOTYPE, ElfSymbolBinding.STB_LOCAL);
        b.AddSymbol("__kernel_sigreturn", text + Sigreturn, SigreturnSize, ElfSymbolType.STT_FUNC, ElfSymbolBinding.STB_GLOBAL);
        b.AddSymbol("__kernel_rt_sigreturn", text + RtSigreturn, RtSigreturnSize, ElfSymbolType.STT_FUNC, ElfSymbolBinding.STB_GLOBAL);
        // The version-definition symbol real vDSOs export: absolute, value 0, in no section.
        b.AddSymbol("LINUX_2.5", 0, 0, ElfSymbolType.STT_OBJECT, ElfSymbolBinding.STB_GLOBAL);
        b.AddSection(".note", ElfSectionType.SHT_NOTE, ElfSectionFlags.SHF_ALLOC, Note, 4);
        b.AddSection(".eh_frame_hdr", ElfSectionType.SHT_PROGBITS, ElfSectionFlags.SHF_ALLOC, EhFrame.HeaderSize(3), 4);
        b.AddSection(".eh_frame", ElfSectionType.SHT_PROGBITS, ElfSectionFlags.SHF_ALLOC, EhFrame.Size(3), 4);
        return b;
    }

    public static Built Build(uint loadAddress = 0)
    {
        var builder = Builder(loadAddress);
        var layout = builder.Layout();
        uint text = layout.TextAddress;
        var functions = new (uint, uint)[]
        {
            (text + Vsyscall, VsyscallSize), (text + Sigreturn, SigreturnSize), (text + RtSigreturn, RtSigreturnSize),
        };
        var ehFrame = EhFrame.Encode(layout.AddressOf(".eh_frame"), functions);
        var ehFrameHdr = EhFrame.EncodeHeader(layout.AddressOf(".eh_frame_hdr"), layout.AddressOf(".eh_frame"), functions);
        var image = builder.Build(Text(), new Dictionary<string, byte[]> { [".eh_frame"] = ehFrame, [".eh_frame_hdr"] = ehFrameHdr });
        return new Built(image, layout, Text(), ehFrame, ehFrameHdr);
    }
}
