using SyscallTools.Core.Cpu;
using SyscallTools.Core.Host;
using SyscallTools.Core.Tests.Support;
using Xunit;

namespace SyscallTools.Core.Tests.HostTests;

/// <summary>
/// The modelled x87 data instructions against this machine's CPU: random sequences of FLD (m32 m64 m80 ST(i)), FILD,
/// FLD1 FLDZ, FST/FSTP (m32 m64 m80 ST(i)) under a random rounding control, FXCH FABS FCHS FXAM FUCOMI FUCOMIP, on values
/// from every IEEE class (and unsupported extended encodings), stack overflow and underflow included, all exceptions
/// masked. Compared: every stored value, FSW after each FXAM and at the end, EFLAGS after each FUCOMI, and the eight
/// registers popped to memory at the end.
/// </summary>
public class X87AgreementTests
{
    private static ulong Double(Random r)
    {
        ulong sign = (ulong)r.Next(2) << 63, mant = (ulong)r.NextInt64() & ((1UL << 52) - 1);
        return sign | r.Next(9) switch
        {
            0 => 0UL,
            1 => Math.Max(mant, 1),
            2 => 0x7FFUL << 52,
            3 => (0x7FFUL << 52) | (1UL << 51) | (mant >> 1),
            4 => (0x7FFUL << 52) | Math.Max(mant >> 1, 1),
            5 => ((ulong)r.Next(0x380, 0x480) << 52) | mant,       // near the single range, to exercise rounding to m32
            _ => ((ulong)r.Next(1, 0x7FF) << 52) | mant,
        };
    }

    private static (ulong Mant, ushort SignExp) Extended(Random r)
    {
        ushort sign = (ushort)(r.Next(2) << 15);
        ulong mant = (ulong)r.NextInt64() | ((ulong)r.Next(2) << 63);
        return r.Next(7) switch
        {
            0 => (mant | (1UL << 63), (ushort)(sign | r.Next(1, 0x7FFF))),     // normal
            1 => (mant & ~(1UL << 63), sign),                                  // denormal
            2 => (mant & ~(1UL << 63), (ushort)(sign | r.Next(1, 0x7FFF))),  // unsupported (no integer bit)
            3 => (mant | (1UL << 63), (ushort)(sign | r.Next(0x3F00, 0x4100))), // in the double range
            4 => (mant | (1UL << 63), (ushort)(sign | r.Next(0x3B00, 0x3C10))), // around the double denormal range
            5 => (mant | (1UL << 63), (ushort)(sign | 0x7FFF)),               // NaN
            _ => (mant | (1UL << 63), (ushort)(sign | r.Next(0x407F, 0x4400))), // beyond the double range
        };
    }

    [HostFact(32)]
    public void RandomX87DataCode32AgreesWithThisCpu() => Agree(32, 5032);

    [HostFact(64)]
    public void RandomX87DataCode64AgreesWithThisCpu() => Agree(64, 5064);

    private static void Agree(int bits, int seed)
    {
        var r = new Random(seed);
        for (int p = 0; p < 150; p++)
        {
            var b = new ProbeBuilder($"x87-{bits}-{p}", bits);
            var lines = new List<string>();
            void Asm(string s) { b.Asm(s); lines.Add(s); }
            b.Asm("fninit");
            int n = r.Next(6, 24), k = 0;
            for (int i = 0; i < n; i++, k++)
            {
                ulong slot = b.Slot($"v{k}"), slot2 = b.Slot($"w{k}");
                switch (r.Next(14))
                {
                    case 0 or 1:
                    {
                        ulong d = Double(r);
                        b.Asm($"mov dword ptr [0x{slot:x}], 0x{(uint)d:x}").Asm($"mov dword ptr [0x{slot + 4:x}], 0x{(uint)(d >> 32):x}");
                        Asm(r.Next(3) == 0 ? $"fld dword ptr [0x{slot + 4:x}]" : $"fld qword ptr [0x{slot:x}]");
                        break;
                    }
                    case 2:
                    {
                        var (m, se) = Extended(r);
                        b.Asm($"mov dword ptr [0x{slot:x}], 0x{(uint)m:x}").Asm($"mov dword ptr [0x{slot + 4:x}], 0x{(uint)(m >> 32):x}");
                        b.Asm($"mov dword ptr [0x{slot2:x}], 0x{se:x}");
                        Asm($"fld tbyte ptr [0x{slot:x}]");
                        break;
                    }
                    case 3:
                        b.Asm($"mov dword ptr [0x{slot:x}], 0x{(uint)r.Next():x}").Asm($"mov dword ptr [0x{slot + 4:x}], 0x{(uint)r.Next() ^ ((uint)r.Next(2) << 31):x}");
                        Asm(r.Next(3) switch { 0 => $"fild word ptr [0x{slot:x}]", 1 => $"fild dword ptr [0x{slot:x}]", _ => $"fild qword ptr [0x{slot:x}]" });
                        break;
                    case 4: Asm(r.Next(3) switch { 0 => "fld1", 1 => "fldz", _ => $"fld st{r.Next(8)}" }); break;
                    case 5 or 6:
                    {
                        // Round to the memory format under a random RC (all exceptions masked, extended precision).
                        ulong cw = b.Slot($"cw{k}");
                        b.Asm($"mov dword ptr [0x{cw:x}], 0x{0x037F | (r.Next(4) << 10):x}").Asm($"fldcw word ptr [0x{cw:x}]");
                        string pop = r.Next(2) == 0 ? "fstp" : "fst";
                        Asm(r.Next(3) == 0 ? $"{pop} dword ptr [0x{slot:x}]" : $"{pop} qword ptr [0x{slot:x}]");
                        break;
                    }
                    case 7: Asm($"fstp tbyte ptr [0x{slot:x}]"); break;
                    case 8:
                        // The last two are the undocumented aliases FSTP9 ST(i) (DF D8+i) and FXCH4 ST(i) (DD C8+i).
                        Asm(r.Next(4) switch
                        {
                            0 => $"fxch st0, st{r.Next(1, 8)}",
                            1 => $"{(r.Next(2) == 0 ? "fst" : "fstp")} st{r.Next(8)}",
                            2 => $"db 0xdf, 0x{0xD8 + r.Next(8):x2}",
                            _ => $"db 0xdd, 0x{0xC8 + r.Next(8):x2}",
                        });
                        break;
                    case 9: Asm(r.Next(2) == 0 ? "fabs" : "fchs"); break;
                    case 10 or 11:
                        Asm("fxam");
                        Asm($"fnstsw word ptr [0x{slot:x}]");
                        break;
                    default:
                        Asm($"{(r.Next(2) == 0 ? "fucomi" : "fucomip")} st0, st{r.Next(8)}");
                        Asm(bits == 32 ? "pushfd" : "pushfq");
                        Asm($"pop {(bits == 32 ? "dword" : "qword")} ptr [0x{b.Slot($"f{k}"):x}]");
                        break;
                }
            }
            b.Asm($"fnstsw word ptr [0x{b.Slot("fsw.before"):x}]");
            for (int j = 0; j < 8; j++) { ulong s = b.Slot($"st{j}.lo"); b.Slot($"st{j}.hi"); b.Asm($"fstp tbyte ptr [0x{s:x}]"); }
            b.Asm($"fnstsw word ptr [0x{b.Slot("fsw.after"):x}]");
            b.Asm("jmp finish");
            string code = string.Join("; ", lines);
            var probe = b.Build();
            var (h, e) = HostAgreement.Run(probe, $"probe {p} after: {code}");
            const ulong Flags = RFlags.CF | RFlags.PF | RFlags.AF | RFlags.ZF | RFlags.SF | RFlags.OF;
            foreach (var slot in probe.Slots)
            {
                if (slot.StartsWith("exec.", StringComparison.Ordinal) || slot.StartsWith("aux.", StringComparison.Ordinal)) continue;
                ulong hv = h[slot], ev = e[slot];
                if (slot[0] == 'f' && char.IsDigit(slot[1])) { hv &= Flags; ev &= Flags; }   // EFLAGS after FUCOMI: the arithmetic flags
                Assert.True(hv == ev, $"probe {p} {slot}: host 0x{hv:x}, emulated 0x{ev:x} after: {code}");
            }
        }
    }
}
