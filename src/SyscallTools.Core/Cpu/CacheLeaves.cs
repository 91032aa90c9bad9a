namespace SyscallTools.Core.Cpu;

/// <summary>
/// The CPUID leaves that describe caches and address sizes. Software sizes its copies from them (glibc's
/// init_cacheinfo sets the memcpy non-temporal threshold and the REP MOVSB/STOSB thresholds from these), so they carry
/// the named part's real geometry rather than zeros: the i7-6700's leaf 2 descriptors and leaf 4 (SDM Vol. 2A CPUID,
/// "Deterministic Cache Parameters Leaf"), the EPYC 7713's 8000_0005h/8000_0006h (AMD APM Vol. 3 Appendix E.4.4).
/// The machine has one logical processor: 8000_0008h.ECX reports one core, as leaf 1 reports one logical processor.
/// </summary>
internal static class CacheLeaves
{
    public static (uint Eax, uint Ebx, uint Ecx, uint Edx) Cpuid(CpuProfile p, uint leaf, uint subleaf)
    {
        const uint None = 0;
        bool intel = p.Vendor == CpuVendor.Intel;
        switch (leaf)
        {
            case 2:
                // Descriptor 0xFF in EBX: "no cache information here, use leaf 4"; 0x63/0x03/0x76/0xB5/0xF0/0xC3 are TLBs.
                return intel ? (0x7603_6301, 0x00F0_B5FF, None, 0x00C3_0000) : (None, None, None, None);
            case 4 when intel:
                // EAX: type (1 data, 2 instruction, 3 unified), level << 5, self-initialising (bit 8), logical processors
                // sharing - 1 (bits 25:14), cores in the package - 1 (bits 31:26). EBX: ways-1 <<22, partitions-1 <<12,
                // line size - 1. ECX: sets - 1. EDX bit 1: inclusive; bit 2: complex indexing.
                return subleaf switch
                {
                    0 => (0x1C00_4121u, 0x01C0_003F, 0x0000_003F, None),          // L1d 32 KiB, 8-way, 64-byte lines
                    1 => (0x1C00_4122u, 0x01C0_003F, 0x0000_003F, None),          // L1i 32 KiB, 8-way
                    2 => (0x1C00_4143u, 0x00C0_003F, 0x0000_03FF, None),          // L2 256 KiB, 4-way
                    3 => (0x1C03_C163u, 0x03C0_003F, 0x0000_1FFF, 0x0000_0006u), // L3 8 MiB, 16-way, inclusive
                    _ => (None, None, None, None),                                       // type 0: no more caches
                };
            case 0x8000_0005:
                // AMD: L1 TLBs in EAX/EBX; L1d (ECX) and L1i (EDX): size KiB <<24, ways <<16, lines per tag <<8, line size.
                return intel ? (None, None, None, None) : (0xFF40_FF40, 0xFF40_FF40, 0x2008_0140, 0x2008_0140);
            case 0x8000_0006:
                // ECX: L2 size KiB <<16, associativity code <<12 (6 = 8-way), lines per tag, line size.
                // EDX (AMD): L3 size in 512 KiB units <<18 (64 = 32 MiB per CCX), code 9 = "see leaf 8000_001Dh".
                return intel ? (None, None, 0x0100_6040u, None) : (0x4800_2200, 0x6800_4200, 0x0200_6140, 0x0100_9140);
            case 0x8000_0008:
                // EAX: virtual address bits <<8 | physical address bits (Skylake 48/39, Zen 3 48/48).
                return intel ? (0x0000_3027u, None, None, None) : (0x0000_3030u, None, None, None);
            default:
                return (None, None, None, None);
        }
    }
}
