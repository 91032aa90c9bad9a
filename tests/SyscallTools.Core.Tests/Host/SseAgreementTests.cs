using System.Globalization;
using SyscallTools.Core.Cpu;
using SyscallTools.Core.Host;
using SyscallTools.Core.Tests.Support;
using Xunit;

namespace SyscallTools.Core.Tests.HostTests;

/// <summary>
/// The SSE/SSE2 and x87-control instructions against this machine's CPU, as <see cref="UserCodeAgreementTests"/> does for
/// integer code: seeded random XMM, memory and register inputs run through random sequences of every modelled
/// instruction (register and aligned-memory forms), on the host as a probe program and in the emulator. Afterwards the
/// eight XMM registers are stored to slots, with the general registers, the two 16-byte memory operands, MXCSR and the
/// x87 control and status words; every one must agree. Only instructions that leave no undefined result are drawn.
/// </summary>
public class SseAgreementTests
{
    /// <summary>Two-operand forms "op xmm, xmm/m128".</summary>
    private static readonly string[] XmmOps =
    [
        "pand", "pandn", "por", "pxor", "andps", "andpd", "andnps", "andnpd", "orps", "orpd", "xorps", "xorpd",
        "paddb", "paddw", "paddd", "paddq", "psubb", "psubw", "psubd", "psubq",
        "paddsb", "paddsw", "paddusb", "paddusw", "psubsb", "psubsw", "psubusb", "psubusw",
        "pcmpeqb", "pcmpeqw", "pcmpeqd", "pcmpgtb", "pcmpgtw", "pcmpgtd",
        "pminub", "pmaxub", "pminsw", "pmaxsw", "pavgb", "pavgw",
        "punpcklbw", "punpcklwd", "punpckldq", "punpcklqdq", "punpckhbw", "punpckhwd", "punpckhdq", "punpckhqdq",
        "unpcklps", "unpckhps", "unpcklpd", "unpckhpd", "packsswb", "packssdw", "packuswb",
        "psllw", "pslld", "psllq", "psrlw", "psrld", "psrlq", "psraw", "psrad",
        "movdqa", "movdqu", "movaps", "movups", "movapd", "movupd",
    ];

    private static readonly string[] ShiftImm = ["psllw", "pslld", "psllq", "psrlw", "psrld", "psrlq", "psraw", "psrad", "pslldq", "psrldq"];
    private static readonly string[] ShuffleImm = ["pshufd", "pshuflw", "pshufhw", "shufps", "shufpd"];

    private static List<string> Sequence(Random r, int bits, string m0, string m1)
    {
        string X() => "xmm" + r.Next(8);
        string Mem() => r.Next(2) == 0 ? m0 : m1;
        string Xm() => r.Next(4) == 0 ? $"xmmword ptr [{Mem()}]" : X();
        string R32() => new[] { "eax", "ebx", "ecx", "edx", "esi", "edi" }[r.Next(6)];
        string R64() => new[] { "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9" }[r.Next(8)];
        // Shift counts around the element widths, where the "count too large" rules apply.
        string Count() => new[] { 0, 1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 200 }[r.Next(15)].ToString(CultureInfo.InvariantCulture);
        var lines = new List<string>();
        int n = r.Next(6, 20);
        for (int i = 0; i < n; i++)
        {
            switch (r.Next(12))
            {
                case < 5:
                {
                    string op = XmmOps[r.Next(XmmOps.Length)];
                    lines.Add($"{op} {X()}, {Xm()}");
                    if (op.StartsWith("mov", StringComparison.Ordinal) && r.Next(3) == 0) lines.Add($"{op} xmmword ptr [{Mem()}], {X()}");
                    break;
                }
                case 5: lines.Add($"{ShiftImm[r.Next(ShiftImm.Length)]} {X()}, {Count()}"); break;
                case 6: lines.Add($"{ShuffleImm[r.Next(ShuffleImm.Length)]} {X()}, {Xm()}, {r.Next(256)}"); break;
                case 7:
                    lines.Add(r.Next(6) switch
                    {
                        0 => $"movd {X()}, {R32()}",
                        1 => $"movd {R32()}, {X()}",
                        2 => $"movd {X()}, dword ptr [{Mem()}+4]",
                        3 => $"movd dword ptr [{Mem()}+8], {X()}",
                        4 => bits == 64 ? $"movq {X()}, {R64()}" : $"movq {X()}, qword ptr [{Mem()}+8]",
                        _ => bits == 64 ? $"movq {R64()}, {X()}" : $"movq qword ptr [{Mem()}], {X()}",
                    });
                    break;
                case 8:
                    lines.Add(r.Next(8) switch
                    {
                        0 => $"movq {X()}, {X()}",
                        1 => $"movss {X()}, {X()}",
                        2 => $"movsd {X()}, {X()}",
                        3 => $"movss {X()}, dword ptr [{Mem()}+12]",
                        4 => $"movsd {X()}, qword ptr [{Mem()}+8]",
                        5 => $"movss dword ptr [{Mem()}+4], {X()}",
                        6 => $"movsd qword ptr [{Mem()}], {X()}",
                        _ => $"movq qword ptr [{Mem()}+8], {X()}",
                    });
                    break;
                case 9:
                    lines.Add(r.Next(8) switch
                    {
                        0 => $"movlps {X()}, qword ptr [{Mem()}+8]",
                        1 => $"movhps {X()}, qword ptr [{Mem()}]",
                        2 => $"movlpd qword ptr [{Mem()}+8], {X()}",
                        3 => $"movhpd qword ptr [{Mem()}], {X()}",
                        4 => $"movhlps {X()}, {X()}",
                        5 => $"movlhps {X()}, {X()}",
                        6 => $"movntdq xmmword ptr [{Mem()}], {X()}",
                        _ => $"movnti dword ptr [{Mem()}+4], {R32()}",
                    });
                    break;
                case 10:
                    lines.Add(r.Next(5) switch
                    {
                        0 => $"pmovmskb {R32()}, {X()}",
                        1 => $"movmskps {R32()}, {X()}",
                        2 => $"movmskpd {R32()}, {X()}",
                        3 => $"pextrw {R32()}, {X()}, {r.Next(256)}",
                        _ => $"pinsrw {X()}, {R32()}, {r.Next(256)}",
                    });
                    break;
                default:
                {
                    // Control words: MXCSR with valid random bits (its mask is 0xFFFF on both vendors), the x87 control word
                    // with any 16-bit value, and the status word.
                    string m = Mem();
                    switch (r.Next(4))
                    {
                        case 0: lines.Add($"mov dword ptr [{m}+12], 0x{r.Next(0x10000):x}"); lines.Add($"ldmxcsr dword ptr [{m}+12]"); break;
                        case 1: lines.Add($"mov word ptr [{m}+2], 0x{r.Next(0x10000):x}"); lines.Add($"fldcw word ptr [{m}+2]"); break;
                        case 2: lines.Add($"fnstcw word ptr [{m}+6]"); break;
                        default: lines.Add("fnstsw ax"); break;
                    }
                    break;
                }
            }
        }
        return lines;
    }

    private static ProbeProgram Probe(int bits, int index, Random r, out List<string> lines)
    {
        var b = new ProbeBuilder($"sse-{bits}-{index}", bits);
        // 16-byte aligned pairs of slots: the memory operands and the XMM images.
        if ((b.Slot("pad0") & 15) == 0) b.Slot("pad1");
        string Pair(string name)
        {
            ulong lo = b.Slot(name + ".lo");
            if ((lo & 15) != 0) throw new InvalidOperationException("slot pair not aligned");
            b.Slot(name + ".hi");
            return $"0x{lo:x}";
        }
        string m0 = Pair("m0"), m1 = Pair("m1");
        var xin = Enumerable.Range(0, 8).Select(i => Pair($"in{i}")).ToArray();
        var xout = Enumerable.Range(0, 8).Select(i => Pair($"x{i}")).ToArray();
        foreach (var addr in new[] { m0, m1 }.Concat(xin))
            for (int k = 0; k < 16; k += 4)
                b.Asm($"mov dword ptr [{addr}+{k}], 0x{(uint)r.Next() ^ ((uint)r.Next(4) << 30):x}");
        for (int i = 0; i < 8; i++) b.Asm($"movdqu xmm{i}, xmmword ptr [{xin[i]}]");
        foreach (var reg in new[] { "ax", "bx", "cx", "dx", "si", "di" })
            b.Asm($"mov {b.Hw(reg)}, 0x{((ulong)r.NextInt64() & (bits == 32 ? 0xFFFF_FFFFUL : ulong.MaxValue)):x}");
        if (bits == 64) { b.Asm($"mov r8, 0x{(ulong)r.NextInt64():x}"); b.Asm($"mov r9, 0x{(ulong)r.NextInt64():x}"); }
        b.Asm("fninit");
        lines = Sequence(r, bits, m0, m1);
        foreach (var l in lines) b.Asm(l);
        for (int i = 0; i < 8; i++) b.Asm($"movdqu xmmword ptr [{xout[i]}], xmm{i}");
        b.Asm($"stmxcsr dword ptr [0x{b.Slot("mxcsr"):x}]");
        b.Asm($"fnstcw word ptr [0x{b.Slot("fcw"):x}]");
        b.Asm($"fnstsw word ptr [0x{b.Slot("fsw"):x}]");
        b.SaveAll("out");
        b.Asm("jmp finish");
        return b.Build();
    }

    [HostFact(32)]
    public void RandomSseCode32AgreesWithThisCpu() => Agree(32, seed: 1032, count: 100);

    [HostFact(64)]
    public void RandomSseCode64AgreesWithThisCpu() => Agree(64, seed: 1064, count: 100);

    private static void Agree(int bits, int seed, int count)
    {
        var r = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            var probe = Probe(bits, i, r, out var lines);
            string code = string.Join("; ", lines);
            var (h, e) = HostAgreement.Run(probe, $"seed {seed} #{i} after: {code}");
            foreach (var slot in probe.Slots)
            {
                if (slot is "out.sp" or "out.flags" || slot.StartsWith("exec.", StringComparison.Ordinal) || slot.StartsWith("aux.", StringComparison.Ordinal)) continue;
                Assert.True(h.ContainsKey(slot) && e.ContainsKey(slot), $"seed {seed} #{i}: slot {slot} missing");
                Assert.True(h[slot] == e[slot], $"seed {seed} #{i} {slot}: host 0x{h[slot]:x}, emulated 0x{e[slot]:x} after: {code}");
            }
        }
    }
}
