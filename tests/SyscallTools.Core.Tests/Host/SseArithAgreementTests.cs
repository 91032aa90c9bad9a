using SyscallTools.Core.Cpu;
using SyscallTools.Core.Host;
using SyscallTools.Core.Tests.Support;
using Xunit;

namespace SyscallTools.Core.Tests.HostTests;

/// <summary>
/// Scalar SSE arithmetic and conversions against this machine's CPU in the default MXCSR (round to nearest, all
/// exceptions masked): operands from every IEEE class, with exponents clustered so that sums cancel, products
/// overflow and underflow and quotients land on denormals; the result register and MXCSR compared after each.
/// </summary>
public class SseArithAgreementTests
{
    private static readonly string[] Ops = ["addsd", "subsd", "mulsd", "divsd", "sqrtsd", "addss", "subss", "mulss", "divss", "sqrtss",
        "cvtss2sd", "cvtsd2ss", "cvtsi2sd", "cvtsi2ss", "cvttsd2si", "cvttss2si"];

    private static ulong Value(Random r, bool single)
    {
        int fracBits = single ? 23 : 52, expBits = single ? 8 : 11, maxExp = (1 << expBits) - 1, bias = maxExp / 2;
        ulong sign = (ulong)r.Next(2) << (fracBits + expBits);
        ulong mant = (ulong)r.NextInt64() & ((1UL << fracBits) - 1);
        if (r.Next(3) == 0) mant &= ~((1UL << r.Next(fracBits)) - 1);     // short significands: exact results happen
        ulong Exp(int e) => (ulong)Math.Clamp(e, 1, maxExp - 1) << fracBits;
        return sign | r.Next(12) switch
        {
            0 => 0UL,
            1 => Math.Max(mant, 1),
            2 => (ulong)maxExp << fracBits,
            3 => ((ulong)maxExp << fracBits) | (1UL << (fracBits - 1)) | (mant >> 1),
            4 => ((ulong)maxExp << fracBits) | Math.Max(mant >> 1, 1),
            5 => Exp(r.Next(1, 40)) | mant,                              // near the bottom of the range
            6 => Exp(maxExp - r.Next(2, 40)) | mant,                     // near the top
            7 => Exp(bias + r.Next(-3, 4)) | mant,                        // near 1: cancellation in sums
            8 => Exp(bias + 31 + r.Next(-2, 3)) | mant,                   // around 2^31 and 2^63 for the integer conversions
            9 => Exp(bias + 63 + r.Next(-2, 3)) | mant,
            _ => Exp(r.Next(1, maxExp)) | mant,
        };
    }

    [HostFact(64)]
    public void ScalarArithmeticAgreesWithThisCpu() => Agree(64, 7064);

    [HostFact(32)]
    public void ScalarArithmeticAgreesWithThisCpu32() => Agree(32, 7032);

    private static void Agree(int bits, int seed)
    {
        var r = new Random(seed);
        for (int p = 0; p < 60; p++)
        {
            var b = new ProbeBuilder($"sse-arith-{bits}-{p}", bits);
            var cases = new List<string>();
            for (int k = 0; k < 16; k++)
            {
                string op = Ops[r.Next(Ops.Length)];
                bool srcSingle = (op.EndsWith("ss", StringComparison.Ordinal) && op != "cvtsd2ss") || op is "cvtss2sd" or "cvttss2si";
                bool dstSingle = op.EndsWith("ss", StringComparison.Ordinal) || op is "cvtsd2ss";
                ulong x = Value(r, dstSingle), y = r.Next(6) == 0 ? x : Value(r, srcSingle);
                ulong sx = b.Slot($"x{k}"), sy = b.Slot($"y{k}"), sm = b.Slot($"m{k}"), sr = b.Slot($"r{k}");
                b.Store64(sx, x).Store64(sy, y);
                b.Asm($"mov dword ptr [0x{sm:x}], 0x1f80").Asm($"ldmxcsr dword ptr [0x{sm:x}]");
                b.Asm($"movq xmm0, qword ptr [0x{sx:x}]").Asm($"movq xmm1, qword ptr [0x{sy:x}]");
                string mem = $"{(srcSingle ? "dword" : "qword")} ptr [0x{sy:x}]";
                string src = r.Next(2) == 0 ? "xmm1" : mem;
                string line = op switch
                {
                    "cvtsi2sd" or "cvtsi2ss" => bits == 64 && op == "cvtsi2sd" && r.Next(2) == 0 ? $"{op} xmm0, qword ptr [0x{sy:x}]" : $"{op} xmm0, dword ptr [0x{sy:x}]",
                    "cvttsd2si" or "cvttss2si" => bits == 64 && r.Next(2) == 0 ? $"{op} rax, {src}" : $"{op} eax, {src}",
                    _ => $"{op} xmm0, {src}",
                };
                if (op.StartsWith("cvtt", StringComparison.Ordinal)) b.Asm(bits == 64 ? "xor rax, rax" : "xor eax, eax");
                b.Asm(line);
                if (op.StartsWith("cvtt", StringComparison.Ordinal)) b.Asm($"mov {(bits == 64 ? "qword" : "dword")} ptr [0x{sr:x}], {(bits == 64 ? "rax" : "eax")}");
                else b.Asm($"movq qword ptr [0x{sr:x}], xmm0");
                b.Asm($"stmxcsr dword ptr [0x{sm:x}]");
                cases.Add($"{line} with xmm0 = 0x{x:x}, source 0x{y:x}");
            }
            b.Asm("jmp finish");
            var (h, e) = HostAgreement.Run(b.Build(), $"probe {p}");
            for (int k = 0; k < cases.Count; k++)
            {
                Assert.True(h[$"r{k}"] == e[$"r{k}"], $"{cases[k]}: result host 0x{h[$"r{k}"]:x}, emulated 0x{e[$"r{k}"]:x}");
                Assert.True((uint)h[$"m{k}"] == (uint)e[$"m{k}"], $"{cases[k]}: MXCSR host 0x{(uint)h[$"m{k}"]:x}, emulated 0x{(uint)e[$"m{k}"]:x}");
            }
        }
    }
}
