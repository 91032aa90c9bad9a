using SyscallTools.Core.Cpu;
using SyscallTools.Core.Host;
using SyscallTools.Core.Tests.Support;
using Xunit;

namespace SyscallTools.Core.Tests.HostTests;

/// <summary>
/// UCOMISS UCOMISD COMISS COMISD against this machine's CPU: operands drawn from the IEEE classes that decide the result
/// and the MXCSR flags (±0, denormals, normals, ±∞, quiet and signalling NaNs, equal pairs), with and without DAZ, all
/// exceptions masked; ZF PF CF OF SF AF and MXCSR compared after each.
/// </summary>
public class SseCompareAgreementTests
{
    private static readonly string[] Ops = ["ucomisd", "comisd", "ucomiss", "comiss"];

    private static ulong Special(Random r, bool dbl)
    {
        ulong sign = (ulong)r.Next(2);
        if (dbl)
        {
            ulong mant = (ulong)r.NextInt64() & ((1UL << 52) - 1);
            return (sign << 63) | r.Next(8) switch
            {
                0 => 0UL,                                            // zero
                1 => Math.Max(mant, 1),                              // denormal
                2 => 0x7FFUL << 52,                                  // infinity
                3 => (0x7FFUL << 52) | (1UL << 51) | (mant >> 1),    // quiet NaN
                4 => (0x7FFUL << 52) | Math.Max(mant >> 1, 1),       // signalling NaN
                _ => ((ulong)r.Next(1, 0x7FF) << 52) | mant,         // normal
            };
        }
        uint m = (uint)r.Next() & ((1u << 23) - 1);
        return (sign << 31) | r.Next(8) switch
        {
            0 => 0u,
            1 => Math.Max(m, 1),
            2 => 0xFFu << 23,
            3 => (0xFFu << 23) | (1u << 22) | (m >> 1),
            4 => (0xFFu << 23) | Math.Max(m >> 1, 1),
            _ => ((uint)r.Next(1, 0xFF) << 23) | m,
        };
    }

    [HostFact(64)]
    public void ScalarComparesAgreeWithThisCpu() => Agree(64, 4064);

    [HostFact(32)]
    public void ScalarComparesAgreeWithThisCpu32() => Agree(32, 4032);

    private static void Agree(int bits, int seed)
    {
        var r = new Random(seed);
        for (int p = 0; p < 12; p++)
        {
            var b = new ProbeBuilder($"comi-{bits}-{p}", bits);
            var cases = new List<string>();
            for (int k = 0; k < 16; k++)
            {
                string op = Ops[r.Next(Ops.Length)];
                bool dbl = op.EndsWith('d');
                ulong x = Special(r, dbl), y = r.Next(5) == 0 ? x : Special(r, dbl);
                uint mxcsr = r.Next(2) == 0 ? 0x1F80u : 0x1FC0u;     // all masked; DAZ or not
                ulong sx = b.Slot($"x{k}"), sy = b.Slot($"y{k}"), sm = b.Slot($"m{k}");
                b.Store64(sx, x).Store64(sy, y);
                b.Asm($"mov dword ptr [0x{sm:x}], 0x{mxcsr:x}").Asm($"ldmxcsr dword ptr [0x{sm:x}]");
                b.Asm($"movq xmm0, qword ptr [0x{sx:x}]");
                string src = r.Next(2) == 0 ? "xmm1" : $"{(dbl ? "qword" : "dword")} ptr [0x{sy:x}]";
                if (src == "xmm1") b.Asm($"movq xmm1, qword ptr [0x{sy:x}]");
                b.Asm($"{op} xmm0, {src}");
                b.Asm(bits == 32 ? "pushfd" : "pushfq").Asm($"pop {(bits == 32 ? "dword" : "qword")} ptr [0x{b.Slot($"f{k}"):x}]");
                b.Asm($"stmxcsr dword ptr [0x{sm:x}]");
                cases.Add($"{op} 0x{x:x}, 0x{y:x} (MXCSR 0x{mxcsr:x}, {src})");
            }
            b.Asm("jmp finish");
            var (h, e) = HostAgreement.Run(b.Build(), $"probe {p}");
            const ulong Flags = RFlags.CF | RFlags.PF | RFlags.AF | RFlags.ZF | RFlags.SF | RFlags.OF;
            for (int k = 0; k < cases.Count; k++)
            {
                Assert.True((h[$"f{k}"] & Flags) == (e[$"f{k}"] & Flags), $"{cases[k]}: flags host 0x{h[$"f{k}"] & Flags:x}, emulated 0x{e[$"f{k}"] & Flags:x}");
                Assert.True((uint)h[$"m{k}"] == (uint)e[$"m{k}"], $"{cases[k]}: MXCSR host 0x{(uint)h[$"m{k}"]:x}, emulated 0x{(uint)e[$"m{k}"]:x}");
            }
        }
    }
}
