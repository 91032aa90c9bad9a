using Iced.Intel;
using SyscallTools.Core.Cpu;
using SyscallTools.Core.Host;
using SyscallTools.Core.Tests.Support;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace SyscallTools.Core.Tests.HostTests;

/// <summary>
/// BMI1 (ANDN BEXTR BLSI BLSMSK BLSR TZCNT) and LZCNT, which the profiles report, against this machine's CPU: one
/// instruction per probe on seeded random operands (zero and small values included), the destination and the flags each
/// defines compared (SDM Vol. 2: AF and PF are undefined after all of them; SF after BEXTR, TZCNT and LZCNT; OF after TZCNT and LZCNT).
/// Skipped where the host lacks BMI1 (the probe would die of SIGILL).
/// </summary>
public class BmiAgreementTests
{
    private static readonly string[] Ops = ["andn", "bextr", "blsi", "blsmsk", "blsr", "tzcnt", "lzcnt"];

    private static bool HostHasBmi1 =>
        File.Exists("/proc/cpuinfo") && File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal)) is { } f
        && f.Split(' ').Contains("bmi1") && f.Split(' ').Contains("abm");

    [HostFact(64)]
    public void Bmi1AndLzcntAgreeWithThisCpu()
    {
        if (!HostHasBmi1) return;
        var r = new Random(3064);
        const ulong Defined = RFlags.CF | RFlags.ZF | RFlags.SF | RFlags.OF;
        for (int i = 0; i < 70; i++)
        {
            string op = Ops[i % Ops.Length];
            bool wide = r.Next(2) == 0;
            ulong Value() => r.Next(4) switch { 0 => 0, 1 => (ulong)r.Next(1, 300), 2 => (ulong)r.NextInt64() << r.Next(40), _ => (ulong)r.NextInt64() };
            ulong b = Value(), c = op == "bextr" ? (ulong)(r.Next(0, 80) | (r.Next(0, 80) << 8)) : Value();
            var asm = new Assembler(64);
            switch (op, wide)
            {
                case ("andn", true): asm.andn(rax, rbx, rcx); break;
                case ("andn", false): asm.andn(eax, ebx, ecx); break;
                case ("bextr", true): asm.bextr(rax, rbx, rcx); break;
                case ("bextr", false): asm.bextr(eax, ebx, ecx); break;
                case ("blsi", true): asm.blsi(rax, rbx); break;
                case ("blsi", false): asm.blsi(eax, ebx); break;
                case ("blsmsk", true): asm.blsmsk(rax, rbx); break;
                case ("blsmsk", false): asm.blsmsk(eax, ebx); break;
                case ("blsr", true): asm.blsr(rax, rbx); break;
                case ("blsr", false): asm.blsr(eax, ebx); break;
                case ("tzcnt", true): asm.tzcnt(rax, rbx); break;
                case ("tzcnt", false): asm.tzcnt(eax, ebx); break;
                case ("lzcnt", true): asm.lzcnt(rax, rbx); break;
                default: asm.lzcnt(eax, ebx); break;
            }
            byte[] bytes = Core.Assembly.ByteListWriter.Assemble(64, ProbeBuilder.Text64, a => asm.Instructions.ToList().ForEach(x => a.AddInstruction(x)));
            ulong defined = op switch
            {
                "bextr" => RFlags.CF | RFlags.ZF | RFlags.OF,
                "tzcnt" or "lzcnt" => RFlags.CF | RFlags.ZF,
                _ => Defined,
            };
            var pb = new ProbeBuilder($"bmi-{i}", 64);
            pb.Asm($"mov rax, 0x{(ulong)r.NextInt64():x}").Asm($"mov rbx, 0x{b:x}").Asm($"mov rcx, 0x{c:x}");
            pb.Asm($"push 0x{0x202 | (r.Next() & 0x8D5):x}").Asm("popfq");
            pb.Asm("db " + string.Join(", ", bytes.Select(x => $"0x{x:x2}")));
            pb.SaveAll("out").Asm("jmp finish");
            string what = $"#{i} {op} {(wide ? 64 : 32)}-bit, b=0x{b:x} c=0x{c:x}";
            var (h, e) = HostAgreement.Run(pb.Build(), what);
            Assert.True(h["out.ax"] == e["out.ax"], $"{what}: host 0x{h["out.ax"]:x}, emulated 0x{e["out.ax"]:x}");
            Assert.True((h["out.flags"] & defined) == (e["out.flags"] & defined), $"{what}: flags host 0x{h["out.flags"] & defined:x}, emulated 0x{e["out.flags"] & defined:x}");
        }
    }
}
