using System.Text.Json;
using System.Text.Json.Serialization;
using Iced.Intel;
using SyscallTools.Core.Cpu;
using SyscallTools.Core.Host;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Models;
using SyscallTools.Core.Memory;
using SyscallTools.Core.Tests.Support;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace SyscallTools.Core.Tests.CpuTests;

using Cpu = SyscallTools.Core.Cpu.Cpu;

/// <summary>
/// The block compiler against the interpreter: the same code from the same state, once with the interpreter alone
/// (threshold -1) and once with every block translated before its first run (threshold 0), must leave the same
/// registers, flags, RIP, retired count, memory and run result, at every budget (a budget can end inside a block or
/// inside a self-looping block's iterations). The native vectors (NativeVectorTests.MatchesHardwareCompiled) check
/// the compiled code against the real CPU as well.
/// </summary>
public class CompilerEquivalenceTests
{
    private const ulong Code = TestMachine.UserCode, Data = TestMachine.UserData;
    private const ulong Unmapped = 0x0700_0000;

    private sealed record Outcome(string Result, ulong Retired, ulong Rip, ulong Flags, string Regs, string Memory, int Compiled);

    private static Outcome Run(int bitness, byte[] code, ulong[] regs, ulong flags, long budget, int threshold, Action<Cpu>? setup = null)
    {
        var cpu = TestMachine.Create(CpuProfile.IntelSkylake, bitness == 64 ? TestMode.Long64 : TestMode.Compat);
        cpu.CompileThreshold = threshold;
        cpu.Memory.WriteBytes(Code, code);
        cpu.Rip = Code;
        for (int r = 0; r < 16; r++)
        {
            if (r == 4 || (bitness == 32 && r >= 8)) continue;
            cpu[(Gpr)r] = bitness == 32 ? (uint)regs[r] : regs[r];
        }
        cpu[Gpr.Rsp] = TestMachine.UserStackTop - 0x100;
        cpu.Rflags = (flags & 0x8D5) | 0x202;
        setup?.Invoke(cpu);
        var result = cpu.Run(budget);
        var regText = string.Join(" ", Enumerable.Range(0, 16).Select(r => cpu[(Gpr)r].ToString("x")));
        return new Outcome($"{result.Reason} {result.Instructions} {result.Fault?.Vector} {result.Fault?.Rip:x}", cpu.InstructionsRetired, cpu.Rip,
            cpu.Rflags, regText, Convert.ToHexString(cpu.Memory.ReadBytes(Data, 64)), cpu.CompiledBlockCount);
    }

    /// <summary>Runs both ways and compares; returns how many blocks the compiled run translated.</summary>
    private static int AssertSame(int bitness, byte[] code, ulong[] regs, ulong flags, long budget, string what, Action<Cpu>? setup = null)
    {
        var interpreted = Run(bitness, code, regs, flags, budget, -1, setup);
        var compiled = Run(bitness, code, regs, flags, budget, 0, setup);
        Assert.Equal(0, interpreted.Compiled);
        Assert.True(interpreted with { Compiled = 0 } == compiled with { Compiled = 0 },
            $"{what} (budget {budget}):\n interpreter {interpreted}\n compiled    {compiled}");
        return compiled.Compiled;
    }

    // ---- random programs over what the compiler translates, and what it hands back to the interpreter ----

    private static readonly AssemblerRegister64[] R64 = [rax, rcx, rdx, rbx, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15];
    private static readonly AssemblerRegister32[] R32 = [eax, ecx, edx, ebx, ebp, esi, edi];

    private static byte[] RandomProgram(Random rng, int bitness, out string listing)
    {
        var lines = new List<string>();
        var bytes = Asm.Build(bitness, Code, a =>
        {
            var top = a.CreateLabel();
            var exit = a.CreateLabel();
            a.Label(ref top);
            int n = rng.Next(1, 14);
            for (int k = 0; k < n; k++) lines.Add(Emit(a, rng, bitness, exit));
            // Close the block: a counted loop, a conditional branch back, a jump back, or fall through to HLT.
            switch (rng.Next(5))
            {
                case 0: if (bitness == 64) a.dec(rcx); else a.dec(ecx); a.jne(top); lines.Add("dec cx; jne top"); break;
                case 1: Jcc(a, Cc(rng), top); lines.Add("jcc top"); break;
                case 2: a.jmp(top); lines.Add("jmp top"); break;
                case 3: Jcc(a, Cc(rng), exit); lines.Add("jcc exit"); break;
                default: lines.Add("(fall through)"); break;
            }
            a.Label(ref exit);
            a.hlt();
        });
        listing = string.Join("; ", lines);
        return bytes;
    }

    private static int Cc(Random rng) => rng.Next(16);

    /// <summary>Jcc/SETcc/CMOVcc by condition number in the hardware order (o, no, b, ae, e, ne, be, a, s, ns, p, np, l, ge, le, g).</summary>
    private static void Jcc(Assembler a, int cc, Label to)
    {
        Action<Label>[] j = [a.jo, a.jno, a.jb, a.jae, a.je, a.jne, a.jbe, a.ja, a.js, a.jns, a.jp, a.jnp, a.jl, a.jge, a.jle, a.jg];
        j[cc](to);
    }

    private static void Setcc(Assembler a, int cc, AssemblerRegister8 r)
    {
        Action<AssemblerRegister8>[] s = [a.seto, a.setno, a.setb, a.setae, a.sete, a.setne, a.setbe, a.seta, a.sets, a.setns, a.setp, a.setnp, a.setl, a.setge, a.setle, a.setg];
        s[cc](r);
    }

    private static void Cmov32(Assembler a, int cc, AssemblerRegister32 d, AssemblerRegister32 s)
    {
        Action<AssemblerRegister32, AssemblerRegister32>[] c = [a.cmovo, a.cmovno, a.cmovb, a.cmovae, a.cmove, a.cmovne, a.cmovbe, a.cmova, a.cmovs, a.cmovns, a.cmovp, a.cmovnp, a.cmovl, a.cmovge, a.cmovle, a.cmovg];
        c[cc](d, s);
    }

    private static string Emit(Assembler a, Random rng, int bitness, Label exit)
    {
        bool w64 = bitness == 64 && rng.Next(2) == 0;
        var d64 = R64[rng.Next(R64.Length)];
        var s64 = R64[rng.Next(R64.Length)];
        var d32 = R32[rng.Next(R32.Length)];
        var s32 = R32[rng.Next(R32.Length)];
        int imm = rng.Next(4) switch { 0 => 0, 1 => -1, 2 => rng.Next(-128, 128), _ => rng.Next() };
        int kind = rng.Next(22);
        switch (kind)
        {
            case 0: if (w64) a.add(d64, s64); else a.add(d32, s32); return "add r,r";
            case 1: if (w64) a.sub(d64, imm); else a.sub(d32, imm); return "sub r,i";
            case 2: if (w64) a.cmp(d64, s64); else a.cmp(d32, s32); return "cmp r,r";
            case 3: if (w64) a.and(d64, imm); else a.and(d32, imm); return "and r,i";
            case 4: if (w64) a.or(d64, s64); else a.or(d32, s32); return "or r,r";
            case 5: if (w64) a.xor(d64, imm); else a.xor(d32, imm); return "xor r,i";
            case 6: if (w64) a.test(d64, s64); else a.test(d32, s32); return "test r,r";
            case 7: if (w64) a.inc(d64); else a.inc(d32); return "inc";
            case 8: if (w64) a.dec(d64); else a.dec(d32); return "dec";
            case 9: if (w64) a.mov(d64, s64); else a.mov(d32, s32); return "mov r,r";
            case 10: if (w64) a.mov(d64, (long)rng.NextInt64()); else a.mov(d32, imm); return "mov r,i";
            case 11:
                if (bitness == 64) { if (w64) a.lea(d64, __[s64 + R64[rng.Next(R64.Length)] * (1 << rng.Next(4)) + imm]); else a.lea(d32, __[s64 + imm]); }
                else a.lea(d32, __[s32 + R32[rng.Next(R32.Length)] * (1 << rng.Next(4)) + imm]);
                return "lea";
            case 12:
                switch (rng.Next(4))
                {
                    case 0: a.nop(); return "nop";
                    case 1:
                        if (bitness == 64) a.movzx(d32, __byte_ptr[(long)Data + rng.Next(64)]); else a.movzx(d32, __byte_ptr[(uint)Data + (uint)rng.Next(64)]);
                        return "movzx r,[m8]";
                    case 2: a.movzx(d32, rng.Next(2) == 0 ? bh : cl); return "movzx r,r8";
                    default:
                        if (rng.Next(3) == 0)
                        {
                            // A stack-relative load (the stack window), at a displacement that may cross the page.
                            int disp = rng.Next(2) == 0 ? rng.Next(0, 64) : rng.Next(0x100 - 8, 0x100 + 8);
                            if (bitness == 64) { if (w64) a.mov(d64, __qword_ptr[rsp + disp]); else a.movzx(d32, __word_ptr[rsp + disp]); }
                            else if (rng.Next(2) == 0) a.mov(d32, __dword_ptr[esp + disp]); else a.movzx(d32, __byte_ptr[esp + disp]);
                            return "mov r,[sp+d]";
                        }
                        if (bitness == 64) { if (w64) a.mov(d64, __qword_ptr[(long)Data + rng.Next(8) * 8]); else a.mov(d32, __dword_ptr[(long)Data + rng.Next(16) * 4]); }
                        else a.mov(d32, __dword_ptr[(uint)Data + (uint)rng.Next(16) * 4]);
                        return "mov r,[m]";
                }
            // Handed to the interpreter: flags readers and writers it keeps, memory, the stack.
            case 13: if (w64) a.adc(d64, s64); else a.adc(d32, s32); return "adc";
            case 14:
            {
                // Counts past the width are masked; 0 changes nothing but a 32-bit register's upper half.
                byte n = (byte)(rng.Next(3) == 0 ? rng.Next(3) : rng.Next(70));
                switch (rng.Next(3))
                {
                    case 0: if (w64) a.shl(d64, n); else a.shl(d32, n); return $"shl {n}";
                    case 1: if (w64) a.shr(d64, n); else a.shr(d32, n); return $"shr {n}";
                    default: if (w64) a.sar(d64, n); else a.sar(d32, n); return $"sar {n}";
                }
            }
            case 15:
                if (bitness == 64) a.mov(__dword_ptr[(long)Data + rng.Next(16) * 4], d32); else a.mov(__dword_ptr[(uint)Data + (uint)rng.Next(16) * 4], d32);
                return "mov [m],r";
            case 16:
                if (bitness == 64) a.add(d32, __dword_ptr[(long)Data + rng.Next(16) * 4]); else a.add(d32, __dword_ptr[(uint)Data + (uint)rng.Next(16) * 4]);
                return "add r,[m]";
            case 17:
                if (rng.Next(2) == 0)
                {
                    // Pushes and pops, including of the stack pointer itself, and an unbalanced one now and then.
                    switch (rng.Next(7))
                    {
                        case 0: if (bitness == 64) { a.push(s64); a.pop(d64); } else { a.push(s32); a.pop(d32); } return "push; pop";
                        case 4: a.push(imm); if (bitness == 64) a.pop(d64); else a.pop(d32); return "push imm; pop";
                        case 5:
                        {
                            // CALL to the next instruction (the get-IP idiom): the closing CALL whose target is its own next.
                            var next = a.CreateLabel();
                            a.call(next);
                            a.Label(ref next);
                            if (bitness == 64) a.pop(d64); else a.pop(d32);
                            return "call next; pop";
                        }
                        case 6:
                        {
                            // A closing CALL elsewhere and a closing RET back (with a random RSP from an earlier POP, both fault).
                            var callee = a.CreateLabel();
                            var over = a.CreateLabel();
                            a.call(callee);
                            a.jmp(over);
                            a.Label(ref callee);
                            a.ret();
                            a.Label(ref over);
                            return "call; ret";
                        }
                        case 1: if (bitness == 64) { a.push(rsp); a.pop(rax); } else { a.push(esp); a.pop(eax); } return "push sp; pop";
                        case 2: if (bitness == 64) { a.push(s64); a.pop(rsp); } else { a.push(s32); a.pop(esp); } return "push; pop sp";
                        default: if (bitness == 64) a.push(s64); else a.push(s32); return "push";
                    }
                }
                switch (rng.Next(3))
                {
                    case 0: if (w64) a.imul(d64, s64); else a.imul(d32, s32); return "imul r,r";
                    case 1: if (w64) a.imul(d64, s64, imm); else a.imul(d32, s32, imm); return "imul r,r,i";
                    default:
                        if (bitness == 64) a.imul(d32, __dword_ptr[(long)Data + rng.Next(16) * 4]); else a.imul(d32, __dword_ptr[(uint)Data + (uint)rng.Next(16) * 4]);
                        return "imul r,[m]";
                }
            case 18: Setcc(a, Cc(rng), al); return "setcc al";
            case 19: Cmov32(a, Cc(rng), d32, s32); return "cmovcc";
            case 20: Jcc(a, Cc(rng), exit); return "jcc exit (ends the block)";
            default:
                // A fault in the middle of a block: a read of an unmapped page (rarely, so most programs run on).
                // SWAPGS in user mode: #GP(0) from the compiled block's guarded path, as from the handler.
                if (bitness == 64 && rng.Next(8) == 0) { a.swapgs(); return "swapgs (faults at CPL 3)"; }
                if (rng.Next(4) == 0) { if (bitness == 64) a.mov(d32, __dword_ptr[(long)Unmapped]); else a.mov(d32, __dword_ptr[(uint)Unmapped]); return "mov r,[unmapped]"; }
                if (w64) a.neg(d64); else a.neg(d32);
                return "neg";
        }
    }

    public static TheoryData<int, int> Seeds()
    {
        var d = new TheoryData<int, int>();
        foreach (int bits in new[] { 32, 64 })
            for (int seed = 1; seed <= 40; seed++) d.Add(bits, seed);
        return d;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void RandomProgramsAgreeAtEveryBudget(int bitness, int seed)
    {
        var rng = new Random(seed * 7919 + bitness);
        int compiledBlocks = 0;
        for (int program = 0; program < 6; program++)
        {
            var code = RandomProgram(rng, bitness, out var listing);
            var regs = new ulong[16];
            for (int r = 0; r < 16; r++) regs[r] = rng.Next(3) switch { 0 => (ulong)rng.Next(0, 40), 1 => (ulong)rng.NextInt64(), _ => 0xFFFF_FFFFUL + (ulong)rng.Next(-2, 2) };
            ulong flags = (ulong)rng.Next(0x1000);
            var data = new byte[64];
            rng.NextBytes(data);
            void Fill(Cpu c) => c.Memory.WriteBytes(Data, data);
            // Budgets that end in the first block, inside a loop's iterations, and one past the loops.
            foreach (long budget in new long[] { 1, 2, rng.Next(3, 30), rng.Next(30, 400), 20_000 })
                compiledBlocks += AssertSame(bitness, code, regs, flags, budget, $"seed {seed} program {program}: {listing}", Fill);
        }
        Assert.True(compiledBlocks > 0, "no program of this seed had a block worth compiling");
    }

    /// <summary>
    /// The stack window at the edge of the stack mapping: pushes open it, loads of 1, 2, 4 and 8 bytes at [sp + d] read
    /// through it, and a load that runs past the last mapped byte must fault as the interpreter's does (the window's
    /// bounds test is by the access size, not by its first byte).
    /// </summary>
    [Theory]
    [InlineData(32)]
    [InlineData(64)]
    public void StackWindowLoadsMatchTheInterpreterAtTheEdgeOfTheStack(int bitness)
    {
        for (int edge = 0; edge < 12; edge++)
        {
            int d = edge;
            var code = Asm.Build(bitness, Code, a =>
            {
                if (bitness == 64)
                {
                    a.lea(rsp, __[rsp + 0xF0]);           // 16 bytes below the top of the mapping
                    a.push(rax);
                    a.push(rbx);
                    a.movzx(ecx, __byte_ptr[rsp + 3]);
                    a.movzx(edx, __word_ptr[rsp + 5]);
                    a.mov(esi, __dword_ptr[rsp + 9]);
                    a.mov(rdi, __qword_ptr[rsp + 0x18 + d]);  // from d = 1 on, past the mapping's end
                }
                else
                {
                    a.lea(esp, __[esp + 0xF0]);
                    a.push(eax);
                    a.push(ebx);
                    a.movzx(ecx, __byte_ptr[esp + 3]);
                    a.movzx(edx, __word_ptr[esp + 5]);
                    a.mov(esi, __dword_ptr[esp + 6]);
                    a.mov(edi, __dword_ptr[esp + 0x10 + d]);  // from d = 5 on, past the mapping's end
                }
                a.hlt();
            });
            var regs = new ulong[16];
            regs[0] = 0x8877_6655_4433_2211;
            regs[3] = 0xF0E0_D0C0_B0A0_9080;
            foreach (long budget in new long[] { 3, 5, 100 })
                AssertSame(bitness, code, regs, 0, budget, $"stack window, {bitness}-bit, last load at +{0x18 + d}");
        }
    }

    [Fact]
    public void TheAluLoopGivesTheSameResultAtBudgetsThatSplitItsIterations()
    {
        // The benchmark's W1 loop (add; xor; dec; jnz): 4096 iterations per call, then the budget's remainder.
        var code = Asm.Build(32, Code, a =>
        {
            var top = a.CreateLabel();
            a.Label(ref top);
            a.add(eax, ecx);
            a.xor(eax, 0x5a5a);
            a.dec(ecx);
            a.jne(top);
            a.hlt();
        });
        var regs = new ulong[16];
        regs[1] = 10_000;
        foreach (long budget in new long[] { 3, 4, 5, 16_387, 39_999, 40_000, 40_001, 100_000 })
            Assert.True(AssertSame(32, code, regs, 0, budget, "W1 loop") > 0);
    }

    [Fact]
    public void ALoopBeyondTheCsLimitFaultsAtTheBranchAsInterpreted()
    {
        // 32-bit code: the branch back checks the CS limit; a compiled loop must not skip the check.
        var code = Asm.Build(32, Code, a =>
        {
            var top = a.CreateLabel();
            a.Label(ref top);
            a.add(eax, 1);
            a.jmp(top);
        });
        void LowLimit(Cpu c)
        {
            var cs = c.GetSegment(SegReg.CS);
            cs.Limit = (uint)Code - 1;
            c.SetSegment(SegReg.CS, cs);
        }
        Assert.True(AssertSame(32, code, new ulong[16], 0, 1000, "loop above the CS limit", LowLimit) > 0);
        var outcome = Run(32, code, new ulong[16], 0, 1000, 0, LowLimit);
        Assert.StartsWith("Fault", outcome.Result);
        Assert.Contains($"{Vector.GP}", outcome.Result);
    }

    [Fact]
    public void CodeWrittenInsideALoopIsRunAsWritten()
    {
        // Self-modifying code: the loop stores over its own ADD immediate (a call into the interpreter's MOV), so
        // the compiled block is dropped and the new bytes run.
        var code = Asm.Build(32, Code, a =>
        {
            var top = a.CreateLabel();
            a.Label(ref top);
            a.add(eax, 0x11111111);
            a.mov(__dword_ptr[(uint)Code + 1], ecx);
            a.dec(ecx);
            a.jne(top);
            a.hlt();
        });
        void Writable(Cpu c) => c.Memory.Map(Code, 0x1000, PageFlags.User | PageFlags.Writable);
        var regs = new ulong[16];
        regs[1] = 50;
        Assert.True(AssertSame(32, code, regs, 0, 10_000, "self-modifying loop", Writable) > 0);
    }

    // ---- whole machines: the host scenarios and getpid through every model, vendor and entry ----

    private static readonly JsonSerializerOptions Json = new()
    {
        IncludeFields = true,
        ReferenceHandler = ReferenceHandler.IgnoreCycles,
        MaxDepth = 64,
        Converters = { new JsonStringEnumConverter() },
    };

    public static TheoryData<string> HostScenarioNames()
    {
        var d = new TheoryData<string>();
        foreach (var s in HostScenarios.All) d.Add(s.Name);
        return d;
    }

    [Theory]
    [MemberData(nameof(HostScenarioNames))]
    public void HostScenariosRunTheSameCompiled(string name)
    {
        var s = HostScenarios.Find(name)!;
        foreach (var vendor in new[] { CpuVendor.Intel, CpuVendor.Amd })
        {
            string interpreted, compiled;
            using (Cpu.UseCompileThreshold(-1)) interpreted = JsonSerializer.Serialize(EmulatedProbeRunner.Run(s.Probe, s.Tracer?.Invoke(), vendor), Json);
            using (Cpu.UseCompileThreshold(0)) compiled = JsonSerializer.Serialize(EmulatedProbeRunner.Run(s.Probe, s.Tracer?.Invoke(), vendor), Json);
            Assert.Equal(interpreted, compiled);
        }
    }

    public static TheoryData<string, string, int> Machines()
    {
        var d = new TheoryData<string, string, int>();
        foreach (var model in KernelModel.All.Select(m => m.Name))
            foreach (var vendor in new[] { "intel", "amd" })
                foreach (int kbits in new[] { 64, 32 })
                    d.Add(model, vendor, kbits);
        return d;
    }

    [Theory]
    [MemberData(nameof(Machines))]
    public void SystemCallsRunTheSameCompiled(string model, string vendor, int kbits)
    {
        var kernel = KernelModel.Find(model)!;
        var profile = vendor == "intel" ? CpuProfile.IntelSkylake : CpuProfile.AmdZen3;
        string Calls()
        {
            var lines = new List<string>();
            foreach (int tbits in kbits == 64 ? new[] { 32, 64 } : new[] { 32 })
                foreach (var via in Enum.GetValues<EntryMethod>())
                {
                    if (tbits == 64 && via is EntryMethod.Vdso or EntryMethod.Sysenter) continue;
                    LinuxMachine m;
                    try { m = new LinuxMachine(kernel, profile, kbits, tbits); }
                    catch (ArgumentException e) { lines.Add(e.Message); continue; }
                    // Several calls on one machine, so the hot entry blocks are compiled and then re-used.
                    for (int call = 0; call < 3; call++)
                    {
                        if (m.Task.Exited) break;
                        var r = m.InvokeSyscall(tbits == 64 && via != EntryMethod.Int80 ? 39 : 20, via: via);
                        lines.Add(JsonSerializer.Serialize(r with { Trace = null }, Json));
                    }
                }
            return string.Join("\n", lines);
        }
        string interpreted, compiled;
        using (Cpu.UseCompileThreshold(-1)) interpreted = Calls();
        using (Cpu.UseCompileThreshold(0)) compiled = Calls();
        Assert.Equal(interpreted, compiled);
    }
}
