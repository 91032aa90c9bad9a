namespace SyscallTools.Core.Cpu;

public enum CpuVendor : byte { Intel, Amd }

/// <summary>
/// A processor model: what CPUID answers and every behaviour in which Intel and AMD differ at the
/// system-call boundary. Each vendor difference is one property here and nowhere else (STYLE.md).
/// </summary>
public sealed class CpuProfile
{
    public required string Name { get; init; }
    public required CpuVendor Vendor { get; init; }
    public required string VendorString { get; init; }
    public required uint Family { get; init; }
    public required uint Model { get; init; }
    public required uint Stepping { get; init; }

    /// <summary>SYSENTER/SYSEXIT are valid in long mode (Intel); AMD raises #UD in 64-bit and compatibility mode.</summary>
    public required bool SysenterInLongMode { get; init; }

    /// <summary>SYSCALL/SYSRET are valid outside 64-bit mode (AMD: legacy and compatibility mode); Intel raises #UD.</summary>
    public required bool SyscallOutside64BitMode { get; init; }

    /// <summary>
    /// SYSRET to a non-canonical RCX raises #GP(0) before leaving ring 0 (Intel). AMD completes the return and
    /// the fetch at the bad RIP faults in ring 3.
    /// </summary>
    public required bool SysretNonCanonicalGpInRing0 { get; init; }

    /// <summary>
    /// SYSRET loads the SS selector but leaves the hidden SS attributes as they were (AMD,
    /// X86_BUG_SYSRET_SS_ATTRS): a NULL kernel SS stays unusable after the return.
    /// </summary>
    public required bool SysretKeepsSsAttributes { get; init; }

    /// <summary>
    /// IRET to a 16-bit stack segment outside 64-bit mode loads only SP; ESP[31:16] keep the kernel's stack pointer bits
    /// on every CPU (the reason for espfix). What happens to RSP[63:32] after an IRETQ differs: Intel zeroes them, AMD
    /// keeps the kernel's ("they leak the high bits of the kernel espfix64 stack pointer", selftest sigreturn.c).
    /// </summary>
    public required bool IretSs16KeepsKernelRspHigh { get; init; }

    /// <summary>CPUID.80000001H:EDX.SYSCALL reads as 1 only in 64-bit mode on Intel; AMD reports it everywhere.</summary>
    public required bool SyscallCpuidBitOnlyIn64BitMode { get; init; }

    /// <summary>Nominal core clock, used to turn the virtual TSC into time.</summary>
    public ulong TscHz { get; init; } = 3_000_000_000;

    public static CpuProfile IntelSkylake { get; } = new()
    {
        Name = "Intel Core i7-6700 (Skylake)",
        Vendor = CpuVendor.Intel,
        VendorString = "GenuineIntel",
        Family = 6, Model = 0x5E, Stepping = 3,
        SysenterInLongMode = true,
        SyscallOutside64BitMode = false,
        SysretNonCanonicalGpInRing0 = true,
        SysretKeepsSsAttributes = false,
        IretSs16KeepsKernelRspHigh = false,
        SyscallCpuidBitOnlyIn64BitMode = true,
        TscHz = 3_400_000_000,
    };

    public static CpuProfile AmdZen3 { get; } = new()
    {
        Name = "AMD EPYC 7713 (Zen 3)",
        Vendor = CpuVendor.Amd,
        VendorString = "AuthenticAMD",
        Family = 0x19, Model = 0x01, Stepping = 1,
        SysenterInLongMode = false,
        SyscallOutside64BitMode = true,
        SysretNonCanonicalGpInRing0 = false,
        SysretKeepsSsAttributes = true,
        IretSs16KeepsKernelRspHigh = true,
        SyscallCpuidBitOnlyIn64BitMode = false,
        TscHz = 2_000_000_000,
    };

    public static IReadOnlyList<CpuProfile> All { get; } = [IntelSkylake, AmdZen3];

    public static CpuProfile For(CpuVendor vendor) => vendor == CpuVendor.Intel ? IntelSkylake : AmdZen3;

    /// <summary>The CPUID signature (leaf 1 EAX) with the extended family/model encoding.</summary>
    public uint Signature
    {
        get
        {
            uint fam = Family > 0xF ? 0xF : Family;
            uint extFam = Family > 0xF ? Family - 0xF : 0;
            uint mod = Model & 0xF, extMod = (Model >> 4) & 0xF;
            return (extFam << 20) | (extMod << 16) | (fam << 8) | (mod << 4) | (Stepping & 0xF);
        }
    }

    // CPUID feature bits (SDM Vol. 2A CPUID, Table 3-10 and 3-11; AMD APM Vol. 3 Appendix E).
    public const uint Leaf1EdxFpu = 1u << 0, Leaf1EdxTsc = 1u << 4, Leaf1EdxMsr = 1u << 5, Leaf1EdxPae = 1u << 6,
        Leaf1EdxCx8 = 1u << 8, Leaf1EdxSep = 1u << 11, Leaf1EdxCmov = 1u << 15, Leaf1EdxFxsr = 1u << 24,
        Leaf1EdxSse = 1u << 25, Leaf1EdxSse2 = 1u << 26;
    public const uint Leaf1EcxSse3 = 1u << 0, Leaf1EcxSsse3 = 1u << 9, Leaf1EcxCx16 = 1u << 13, Leaf1EcxSse41 = 1u << 19,
        Leaf1EcxSse42 = 1u << 20, Leaf1EcxMovbe = 1u << 22, Leaf1EcxPopcnt = 1u << 23, Leaf1EcxXsave = 1u << 26,
        Leaf1EcxOsxsave = 1u << 27, Leaf1EcxAvx = 1u << 28;
    public const uint ExtEdxSyscall = 1u << 11, ExtEdxNx = 1u << 20, ExtEdxLm = 1u << 29;
    public const uint ExtEcxLahf = 1u << 0, ExtEcxLzcnt = 1u << 5;
    public const uint Leaf7EbxBmi1 = 1u << 3, Leaf7EbxAvx2 = 1u << 5, Leaf7EbxSmep = 1u << 7, Leaf7EbxBmi2 = 1u << 8,
        Leaf7EbxErms = 1u << 9, Leaf7EbxSmap = 1u << 20;

    /// <summary>
    /// CPUID.01H:EDX as this model reports it: only what the emulator implements. x87 (FPU) is reported because every
    /// x86-64 processor has it and the kernel requires it; the model implements its control instructions and state
    /// (FNINIT FNSTCW FLDCW FNSTSW FNCLEX FWAIT, FXSAVE/FXRSTOR), the data moves, compares and classification, and
    /// raises #UD "not modelled" for x87 arithmetic.
    /// SSE and SSE2: data movement, the integer and logical SIMD instructions, MXCSR, the scalar compares, arithmetic and
    /// conversions (in the default MXCSR environment); packed floating-point arithmetic is not modelled. Not reported although the real parts have them: VME DE PSE MCE APIC MTRR PGE MCA PAT PSE36 CLFSH MMX HTT.
    /// </summary>
    public uint Leaf1Edx { get; init; } = DefaultLeaf1Edx;

    /// <summary>CPUID.01H:ECX: CMPXCHG16B and POPCNT, which the integer families implement. No SSE3 and later (glibc's
    /// IFUNCs then pick their SSE2 versions), no XSAVE/OSXSAVE/AVX (so no XGETBV and glibc's AVX paths stay unused).</summary>
    public uint Leaf1Ecx { get; init; } = DefaultLeaf1Ecx;

    public const uint DefaultLeaf1Edx = Leaf1EdxFpu | Leaf1EdxTsc | Leaf1EdxMsr | Leaf1EdxPae | Leaf1EdxCx8 | Leaf1EdxSep
        | Leaf1EdxCmov | Leaf1EdxFxsr | Leaf1EdxSse | Leaf1EdxSse2;
    public const uint DefaultLeaf1Ecx = Leaf1EcxCx16 | Leaf1EcxPopcnt;

    /// <summary>A copy of this profile reporting other leaf-1 features (to run software on a CPU without SSE, say).</summary>
    public CpuProfile WithLeaf1(uint edx, uint ecx, string? name = null) => new()
    {
        Name = name ?? Name, Vendor = Vendor, VendorString = VendorString, Family = Family, Model = Model, Stepping = Stepping,
        SysenterInLongMode = SysenterInLongMode, SyscallOutside64BitMode = SyscallOutside64BitMode,
        SysretNonCanonicalGpInRing0 = SysretNonCanonicalGpInRing0, SysretKeepsSsAttributes = SysretKeepsSsAttributes,
        IretSs16KeepsKernelRspHigh = IretSs16KeepsKernelRspHigh, SyscallCpuidBitOnlyIn64BitMode = SyscallCpuidBitOnlyIn64BitMode,
        TscHz = TscHz, Leaf1Edx = edx, Leaf1Ecx = ecx,
    };

    /// <summary>Answers CPUID for a leaf in the given mode: (EAX, EBX, ECX, EDX).</summary>
    public (uint Eax, uint Ebx, uint Ecx, uint Edx) Cpuid(uint leaf, uint subleaf, CpuMode mode)
    {
        static uint Chars(string s, int at) => (uint)(s[at] | (s[at + 1] << 8) | (s[at + 2] << 16) | (s[at + 3] << 24));
        switch (leaf)
        {
            case 0:
                return (7, Chars(VendorString, 0), Chars(VendorString, 8), Chars(VendorString, 4));
            case 1:
                // EBX: CLFLUSH line size 8 (x 8 = 64 bytes), one logical processor, initial APIC id 0.
                return (Signature, 0x0001_0800, Leaf1Ecx, Leaf1Edx);
            case 2 or 4:
                return CacheLeaves.Cpuid(this, leaf, subleaf);
            case 7:
                // BMI1: ANDN BEXTR BLSI BLSMSK BLSR TZCNT are modelled; not BMI2, AVX2 or ERMS (a REP MOVSB hint glibc would act on).
                return subleaf == 0 ? (0u, Leaf7EbxBmi1 | Leaf7EbxSmep | Leaf7EbxSmap, 0u, 0u) : (0u, 0u, 0u, 0u);
            case 0x8000_0000:
                return (0x8000_0008, Vendor == CpuVendor.Amd ? Chars(VendorString, 0) : 0,
                        Vendor == CpuVendor.Amd ? Chars(VendorString, 8) : 0, Vendor == CpuVendor.Amd ? Chars(VendorString, 4) : 0);
            case 0x8000_0001:
            {
                uint edx = ExtEdxNx | ExtEdxLm;
                if (!SyscallCpuidBitOnlyIn64BitMode || mode == CpuMode.Long64) edx |= ExtEdxSyscall;
                return (Vendor == CpuVendor.Amd ? Signature : 0, 0, ExtEcxLahf | ExtEcxLzcnt, edx);
            }
            case >= 0x8000_0002 and <= 0x8000_0004:
            {
                var brand = Name.PadRight(48, '\0');
                int at = (int)(leaf - 0x8000_0002) * 16;
                return (Chars(brand, at), Chars(brand, at + 4), Chars(brand, at + 8), Chars(brand, at + 12));
            }
            case 0x8000_0005 or 0x8000_0006 or 0x8000_0008:
                return CacheLeaves.Cpuid(this, leaf, subleaf);
            default:
                return (0, 0, 0, 0);
        }
    }
}
