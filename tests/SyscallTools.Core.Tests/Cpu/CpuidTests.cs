using Iced.Intel;
using SyscallTools.Core.Cpu;
using SyscallTools.Core.Cpu.Decoding;
using SyscallTools.Core.Tests.Support;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace SyscallTools.Core.Tests.CpuTests;

/// <summary>
/// What each profile's CPUID reports: exactly the instruction families the emulator implements (so software such as
/// glibc's IFUNC resolvers picks code the model runs), only bits the real parts also report, and cache leaves that
/// decode to the parts' published geometry.
/// </summary>
public class CpuidTests
{
    public static TheoryData<string> Profiles => new(CpuProfile.All.Select(p => p.Name));

    private static CpuProfile Find(string name) => CpuProfile.All.Single(p => p.Name == name);

    /// <summary>True when the first instruction <paramref name="body"/> assembles is bound to semantics (not "not modelled").</summary>
    private static bool Modelled(int bits, Action<Assembler> body)
    {
        var bytes = Asm.Build(bits, 0x1000, body);
        var d = Iced.Intel.Decoder.Create(bits, new ByteArrayCodeReader(bytes), 0x1000);
        d.Decode(out var insn);
        Assert.NotEqual(Code.INVALID, insn.Code);
        return Binder.Bind(insn, bits).Run != Binder.NotModelled;
    }

    /// <summary>
    /// Each leaf-1 bit with instructions of its family (SDM Vol. 2A Table 3-10/3-11): a bit is set exactly when those
    /// instructions are modelled. PAE is a paging feature the model has (no instruction). A bit not listed must be 0.
    /// </summary>
    private static readonly (string Feature, bool Edx, int Bit, int Bits, Action<Assembler>[] Probe)[] Families =
    [
        ("FPU", true, 0, 64, [a => a.fninit(), a => a.fnstcw(__word_ptr[rax]), a => a.fldcw(__word_ptr[rax])]),
        ("TSC", true, 4, 64, [a => a.rdtsc()]),
        ("MSR", true, 5, 64, [a => a.rdmsr(), a => a.wrmsr()]),
        ("PAE", true, 6, 64, []),
        ("CX8", true, 8, 64, [a => a.cmpxchg8b(__qword_ptr[rax])]),
        ("SEP", true, 11, 32, [a => a.sysenter(), a => a.sysexit()]),
        ("CMOV", true, 15, 64, [a => a.cmove(eax, ebx)]),
        ("CLFSH", true, 19, 64, [a => a.clflush(__byte_ptr[rax])]),
        ("MMX", true, 23, 64, [a => a.pxor(mm0, mm1), a => a.movq(mm0, rax)]),
        ("FXSR", true, 24, 64, [a => a.fxsave(__[rax]), a => a.fxrstor(__[rax])]),
        ("SSE", true, 25, 64, [a => a.movaps(xmm0, xmm1), a => a.xorps(xmm0, xmm1), a => a.ldmxcsr(__dword_ptr[rax]), a => a.shufps(xmm0, xmm1, 0x1B)]),
        ("SSE2", true, 26, 64, [a => a.movdqa(xmm0, xmm1), a => a.pxor(xmm0, xmm1), a => a.pcmpeqb(xmm0, xmm1), a => a.pmovmskb(eax, xmm0), a => a.pshufd(xmm0, xmm1, 0)]),
        ("SSE3", false, 0, 64, [a => a.lddqu(xmm0, __xmmword_ptr[rax]), a => a.movddup(xmm0, xmm1)]),
        ("SSSE3", false, 9, 64, [a => a.pshufb(xmm0, xmm1), a => a.palignr(xmm0, xmm1, 1)]),
        ("CX16", false, 13, 64, [a => a.cmpxchg16b(__xmmword_ptr[rax])]),
        ("SSE4.1", false, 19, 64, [a => a.ptest(xmm0, xmm1), a => a.pminud(xmm0, xmm1)]),
        ("SSE4.2", false, 20, 64, [a => a.pcmpistri(xmm0, xmm1, 0)]),
        ("MOVBE", false, 22, 64, [a => a.movbe(eax, __dword_ptr[rax])]),
        ("POPCNT", false, 23, 64, [a => a.popcnt(eax, ebx)]),
        ("XSAVE", false, 26, 64, [a => a.xsave(__[rax]), a => a.xrstor(__[rax])]),
        ("OSXSAVE", false, 27, 64, [a => a.xgetbv()]),
        ("AVX", false, 28, 64, [a => a.vpxor(xmm0, xmm1, xmm2), a => a.vzeroupper()]),
    ];

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Leaf1ReportsExactlyTheFamiliesTheModelImplements(string profile)
    {
        var p = Find(profile);
        var (_, _, ecx, edx) = p.Cpuid(1, 0, CpuMode.Long64);
        uint listedEdx = 0, listedEcx = 0;
        foreach (var (feature, isEdx, bit, bits, probes) in Families)
        {
            bool reported = (((isEdx ? edx : ecx) >> bit) & 1) != 0;
            if (isEdx) listedEdx |= 1u << bit; else listedEcx |= 1u << bit;
            if (probes.Length == 0) { Assert.True(reported, $"{feature} is modelled and must be reported"); continue; }
            foreach (var probe in probes)
                Assert.True(Modelled(bits, probe) == reported,
                    $"{p.Name}: CPUID.01H:{(isEdx ? "EDX" : "ECX")}.{feature}[bit {bit}] = {(reported ? 1 : 0)} but an instruction of the family is {(reported ? "not " : "")}modelled");
        }
        Assert.Equal(0u, edx & ~listedEdx);
        Assert.Equal(0u, ecx & ~listedEcx);
    }

    /// <summary>Leaf 7 EBX and 8000_0001h ECX the same way: BMI1 and LZCNT are modelled, BMI2 and AVX2 are not.</summary>
    private static readonly (string Feature, uint Leaf, int Bit, Action<Assembler>[] Probe)[] ExtendedFamilies =
    [
        ("BMI1", 7, 3, [a => a.andn(eax, ebx, ecx), a => a.bextr(eax, ebx, ecx), a => a.blsi(eax, ebx), a => a.blsmsk(eax, ebx), a => a.blsr(eax, ebx), a => a.tzcnt(eax, ebx)]),
        ("AVX2", 7, 5, [a => a.vpaddb(ymm0, ymm1, ymm2)]),
        ("BMI2", 7, 8, [a => a.sarx(eax, ebx, ecx), a => a.bzhi(eax, ebx, ecx), a => a.pdep(eax, ebx, ecx)]),
        ("LZCNT", 0x8000_0001, 5, [a => a.lzcnt(eax, ebx)]),
    ];

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Leaf7AndExtendedLeafReportExactlyTheModelledFamilies(string profile)
    {
        var p = Find(profile);
        foreach (var (feature, leaf, bit, probes) in ExtendedFamilies)
        {
            var r = p.Cpuid(leaf, 0, CpuMode.Long64);
            bool reported = (((leaf == 7 ? r.Ebx : r.Ecx) >> bit) & 1) != 0;
            foreach (var probe in probes)
                Assert.True(Modelled(64, probe) == reported, $"{p.Name}: {feature} reported {reported} but an instruction of it is {(reported ? "not " : "")}modelled");
        }
        // Leaf 7 EBX: BMI1 and the paging features SMEP and SMAP only; 8000_0001h ECX: LAHF/SAHF in 64-bit mode and LZCNT.
        Assert.Equal(CpuProfile.Leaf7EbxBmi1 | CpuProfile.Leaf7EbxSmep | CpuProfile.Leaf7EbxSmap, p.Cpuid(7, 0, CpuMode.Long64).Ebx);
        Assert.Equal(CpuProfile.ExtEcxLahf | CpuProfile.ExtEcxLzcnt, p.Cpuid(0x8000_0001, 0, CpuMode.Long64).Ecx);
        Assert.True(Modelled(64, a => a.lahf()) && Modelled(64, a => a.sahf()));
    }

    /// <summary>
    /// Leaf 1 of the real parts: Intel Core i7-6700 (Skylake) ECX 7FFAFBBFh EDX BFEBFBFFh; AMD Zen 3 (family 19h) EDX
    /// 178BFBFFh and ECX 7ED8320Bh (bits common to the Zen generations; PCID and others aside). The model reports a subset.
    /// </summary>
    [Theory]
    [InlineData(CpuVendor.Intel, 0x7FFA_FBBFu, 0xBFEB_FBFFu)]
    [InlineData(CpuVendor.Amd, 0x7ED8_320Bu, 0x178B_FBFFu)]
    public void Leaf1ReportsOnlyWhatTheRealPartReports(CpuVendor vendor, uint realEcx, uint realEdx)
    {
        var (_, _, ecx, edx) = CpuProfile.For(vendor).Cpuid(1, 0, CpuMode.Long64);
        Assert.Equal(0u, ecx & ~realEcx);
        Assert.Equal(0u, edx & ~realEdx);
        // No AVX, XSAVE or OSXSAVE: XGETBV is not modelled, and glibc then never takes its AVX paths.
        Assert.Equal(0u, ecx & (CpuProfile.Leaf1EcxAvx | CpuProfile.Leaf1EcxXsave | CpuProfile.Leaf1EcxOsxsave));
    }

    /// <summary>
    /// Intel leaf 4: size = ways × partitions × line size × sets (SDM Vol. 2A CPUID, leaf 04H), for the i7-6700's 32 KiB L1d,
    /// 32 KiB L1i, 256 KiB L2 and 8 MiB L3; leaf 2 sends software there with descriptor FFh.
    /// </summary>
    [Fact]
    public void IntelLeaf4DescribesTheSkylakeCaches()
    {
        var p = CpuProfile.IntelSkylake;
        Assert.Equal(0xFFu, p.Cpuid(2, 0, CpuMode.Long64).Ebx & 0xFF);
        (int Type, int Level, long Size)[] expected = [(1, 1, 32 << 10), (2, 1, 32 << 10), (3, 2, 256 << 10), (3, 3, 8 << 20)];
        for (uint i = 0; i < expected.Length; i++)
        {
            var (a, b, c, _) = p.Cpuid(4, i, CpuMode.Long64);
            long size = (long)((b >> 22) + 1) * (((b >> 12) & 0x3FF) + 1) * ((b & 0xFFF) + 1) * (c + 1);
            Assert.Equal(expected[i], ((int)(a & 0x1F), (int)((a >> 5) & 7), size));
        }
        Assert.Equal(0u, p.Cpuid(4, 4, CpuMode.Long64).Eax & 0x1F);   // type 0: no more caches
    }

    /// <summary>AMD 8000_0005h/8000_0006h (APM Vol. 3 E.4.4/E.4.5): EPYC 7713's 32 KiB L1d, 512 KiB L2, 32 MiB L3 per CCX, 64-byte lines.</summary>
    [Fact]
    public void AmdExtendedLeavesDescribeTheZen3Caches()
    {
        var p = CpuProfile.AmdZen3;
        Assert.True(p.Cpuid(0x8000_0000, 0, CpuMode.Long64).Eax >= 0x8000_0008);
        var l1 = p.Cpuid(0x8000_0005, 0, CpuMode.Long64);
        Assert.Equal((32u, 64u), (l1.Ecx >> 24, l1.Ecx & 0xFF));
        var l23 = p.Cpuid(0x8000_0006, 0, CpuMode.Long64);
        Assert.Equal((512u, 64u), (l23.Ecx >> 16, l23.Ecx & 0xFF));
        Assert.Equal(32u << 20, (l23.Edx >> 18) * (512u << 10));
    }
}
