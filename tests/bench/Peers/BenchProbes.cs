using SyscallTools.Core.Host;

namespace SyscallTools.Bench.Peers;

/// <summary>The workloads as static ELF programs (no C toolchain), run natively and under QEMU user mode.</summary>
public static class BenchProbes
{
    /// <summary>W1: add eax,ecx; xor eax,0x5a5a; dec ecx; jnz — <paramref name="iterations"/> times (4 instructions each).</summary>
    public static ProbeProgram AluLoop(int bits, long iterations)
    {
        var b = new ProbeBuilder($"alu-{bits}", bits);
        string cx = bits == 32 ? "ecx" : "rcx", ax = bits == 32 ? "eax" : "rax";
        b.Asm($"mov {cx}, {iterations}").Asm($"test {cx}, {cx}").Asm("jz finish");
        b.Asm("alu_top:").Asm($"add {ax}, {cx}").Asm($"xor {ax}, 0x5a5a").Asm($"dec {cx}").Asm("jnz alu_top").Asm("jmp finish");
        return b.Build();
    }

    /// <summary>W2/W3/W4: getpid in a loop through one entry (HostSyscallTiming's probes).</summary>
    public static ProbeProgram GetpidLoop(string method, int bits, long iterations) => HostSyscallTiming.LoopProbe(method, bits, iterations);
}
