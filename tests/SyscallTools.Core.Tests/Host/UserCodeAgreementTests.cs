using System.Globalization;
using SyscallTools.Core.Cpu;
using SyscallTools.Core.Host;
using SyscallTools.Core.Tests.Support;
using Xunit;

namespace SyscallTools.Core.Tests.HostTests;

/// <summary>
/// Issue 9's oracle for user-mode instruction streams: seeded random sequences of integer instructions run on this
/// machine's CPU (as a probe program) and in the emulator, from the same registers and flags; every register and every
/// flag the sequence leaves defined must agree. Undefined flags are left out per the manuals: AF after AND/OR/XOR/TEST
/// (SDM: "AF is undefined"), and OF after a shift or rotate by a count other than 1, CF/OF after shifts by 0 keep
/// their old value so the count is kept in 1..31 and OF only compared when the last flag writer is not a shift.
/// </summary>
public class UserCodeAgreementTests
{
    private static readonly string[] Binary = ["add", "sub", "adc", "sbb", "and", "or", "xor", "cmp", "test"];
    private static readonly string[] Unary = ["inc", "dec", "neg", "not"];
    private static readonly string[] Shift = ["shl", "shr", "sar", "rol", "ror"];
    private static readonly string[] Other = ["mov", "lea", "xchg", "imul", "movzx", "movsx", "bswap", "setcc", "cmovcc"];
    private static readonly (string Cc, ulong Reads)[] Cc =
    [
        ("o", RFlags.OF), ("no", RFlags.OF), ("b", RFlags.CF), ("ae", RFlags.CF), ("e", RFlags.ZF), ("ne", RFlags.ZF),
        ("be", RFlags.CF | RFlags.ZF), ("a", RFlags.CF | RFlags.ZF), ("s", RFlags.SF), ("ns", RFlags.SF), ("p", RFlags.PF),
        ("np", RFlags.PF), ("l", RFlags.SF | RFlags.OF), ("ge", RFlags.SF | RFlags.OF), ("le", RFlags.ZF | RFlags.SF | RFlags.OF),
        ("g", RFlags.ZF | RFlags.SF | RFlags.OF),
    ];

    /// <summary>One random sequence, and the flags (of CF PF AF ZF SF OF) defined after it.</summary>
    private static (List<string> Lines, ulong FlagMask) Sequence(Random r, int bits)
    {
        string[] regs = bits == 32 ? ["eax", "ebx", "ecx", "edx", "esi", "edi", "ebp"] : ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];
        string Reg() => regs[r.Next(regs.Length)];
        string Low(string reg) => bits == 32 ? reg switch { "eax" => "al", "ebx" => "bl", "ecx" => "cl", "edx" => "dl", _ => "al" }
            : reg.StartsWith("r", StringComparison.Ordinal) && char.IsDigit(reg[1]) ? reg + "b" : reg switch { "rax" => "al", "rbx" => "bl", "rcx" => "cl", "rdx" => "dl", "rsi" => "sil", "rdi" => "dil", _ => "bpl" };
        // A condition only on flags the sequence has left defined (reading an undefined flag is not a disagreement).
        string Cond(ulong defined)
        {
            var ok = Cc.Where(c => (c.Reads & ~defined) == 0).ToArray();
            return ok.Length == 0 ? "b" : ok[r.Next(ok.Length)].Cc;
        }
        string Imm() => "0x" + (r.Next() & (r.Next(2) == 0 ? 0xFF : 0x7FFF_FFFF)).ToString("x", CultureInfo.InvariantCulture);
        const ulong All = RFlags.CF | RFlags.PF | RFlags.AF | RFlags.ZF | RFlags.SF | RFlags.OF;
        ulong mask = All;
        var lines = new List<string>();
        int n = r.Next(4, 16);
        for (int i = 0; i < n; i++)
        {
            int kind = r.Next(10);
            if (kind < 4)
            {
                string op = Binary[r.Next(Binary.Length)];
                lines.Add($"{op} {Reg()}, {(r.Next(2) == 0 ? Reg() : Imm())}");
                mask = op is "and" or "or" or "xor" or "test" ? All & ~RFlags.AF : All;
            }
            else if (kind < 6)
            {
                string op = Unary[r.Next(Unary.Length)];
                lines.Add($"{op} {Reg()}");
                if (op != "not") mask = All;           // NOT writes no flags; INC/DEC keep CF, which stays defined
            }
            else if (kind < 7)
            {
                string op = Shift[r.Next(Shift.Length)];
                lines.Add($"{op} {Reg()}, {r.Next(1, 32)}");
                // Shifts: AF undefined, OF defined only for a count of 1; rotates write only CF and OF.
                mask = op is "rol" or "ror" ? mask & ~RFlags.OF : All & ~(RFlags.AF | RFlags.OF);
            }
            else
            {
                string op = Other[r.Next(Other.Length)];
                string d = Reg(), s = Reg();
                switch (op)
                {
                    case "mov": lines.Add($"mov {d}, {(r.Next(2) == 0 ? s : Imm())}"); break;
                    case "lea": lines.Add($"lea {d}, [{s}+{r.Next(0, 4096)}]"); break;
                    case "xchg": lines.Add($"xchg {d}, {s}"); break;
                    case "imul": lines.Add($"imul {d}, {s}"); mask = RFlags.CF | RFlags.OF; break;   // SF ZF AF PF undefined
                    case "movzx": lines.Add($"movzx {d}, {Low(s)}"); break;
                    case "movsx": lines.Add($"movsx {d}, {Low(s)}"); break;
                    case "bswap": lines.Add($"bswap {d}"); break;
                    case "setcc": lines.Add($"set{Cond(mask)} {Low(d)}"); break;
                    default: lines.Add($"cmov{Cond(mask)} {d}, {s}"); break;
                }
            }
        }
        return (lines, mask);
    }

    private static ProbeProgram Probe(int bits, int index, Random r, out ulong flagMask, out List<string> lines)
    {
        var b = new ProbeBuilder($"ucode-{bits}-{index}", bits);
        foreach (var reg in b.Registers)
            if (reg != "sp") b.Asm($"mov {b.Hw(reg)}, 0x{((ulong)r.NextInt64() & (bits == 32 ? 0xFFFF_FFFFUL : ulong.MaxValue)):x}");
        // Start flags: random CF PF AF ZF SF OF (and IF as the kernel requires).
        ulong flags = 0x202 | ((ulong)r.Next() & (RFlags.CF | RFlags.PF | RFlags.AF | RFlags.ZF | RFlags.SF | RFlags.OF));
        b.Asm($"push 0x{flags:x}").Asm(bits == 32 ? "popfd" : "popfq");
        (lines, flagMask) = Sequence(r, bits);
        foreach (var l in lines) b.Asm(l);
        b.SaveAll("out");
        b.Asm("jmp finish");
        return b.Build();
    }

    [HostFact(32)]
    public void RandomIntegerCode32AgreesWithThisCpu() => Agree(32, seed: 9032, count: 48);

    [HostFact(64)]
    public void RandomIntegerCode64AgreesWithThisCpu() => Agree(64, seed: 9064, count: 48);

    private static void Agree(int bits, int seed, int count)
    {
        var r = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            var probe = Probe(bits, i, r, out ulong mask, out var lines);
            var (h, e) = HostAgreement.Run(probe, $"seed {seed} #{i}");
            string code = string.Join("; ", lines);
            foreach (var reg in new ProbeBuilder("x", bits).Registers)
            {
                if (reg == "sp") continue;   // the initial stack pointer differs (ASLR); nothing here moves it
                Assert.True(h[$"out.{reg}"] == e[$"out.{reg}"], $"seed {seed} #{i} {reg}: host 0x{h[$"out.{reg}"]:x}, emulated 0x{e[$"out.{reg}"]:x} after: {code}");
            }
            ulong hf = h["out.flags"] & mask, ef = e["out.flags"] & mask;
            Assert.True(hf == ef, $"seed {seed} #{i} flags (mask 0x{mask:x}): host 0x{hf:x}, emulated 0x{ef:x} after: {code}");
        }
    }
}
