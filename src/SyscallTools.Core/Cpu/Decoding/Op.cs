using Iced.Intel;

namespace SyscallTools.Core.Cpu.Decoding;

/// <summary>Executes one decoded instruction. RIP already points at the next instruction.</summary>
internal delegate void Exec(Cpu cpu, Op op);

/// <summary>A decoded instruction bound to the handler of its family, with operands resolved.</summary>
internal sealed class Op
{
    public required Exec Run;
    public Instruction I;
    public ulong Ip;
    public ulong Next;
    /// <summary>Operand size in bytes (of the first operand for most instructions).</summary>
    public byte Size;
    public Operand A, B, C;
    /// <summary>A per-family sub-operation selected at bind time (e.g. the condition code, the ALU operation).</summary>
    public int Sub;
    public Exec? Inner;

    public Mnemonic Mnemonic => I.Mnemonic;

    public override string ToString() => $"{Ip:x}: {I}";
}

/// <summary>A run of straight-line instructions decoded together, or a native (C#) function bound to an address.</summary>
internal sealed class Block
{
    private static long s_serials;

    /// <summary>A number no other block has: the run loop notes the running block by it (a store without a GC barrier).</summary>
    public readonly long Serial = Interlocked.Increment(ref s_serials);
    public ulong Start;
    public CpuMode Mode;
    /// <summary>The CS base the block was decoded under (outside 64-bit mode fetches are CS.base + IP).</summary>
    public ulong CsBase;
    public Op[] Ops = [];
    public bool Valid = true;
    public ulong FirstPage, LastPage;
    /// <summary>Set when the block's code was last checked for fetch permission with this CPL and mapping generation.</summary>
    public int CheckedCpl = -1;
    public long CheckedGeneration = -1;
    /// <summary>Set when the address is bound to a native function: the block has no instructions.</summary>
    public NativeFunction? Native;
    /// <summary>Set when the address is a stop address: a run stops before executing it.</summary>
    public bool IsStop;
    /// <summary>Fast-path runs so far, until the block is compiled.</summary>
    public int Heat;
    /// <summary>The block translated to IL (Compiler/BlockCompiler), run instead of interpreting when the budget allows the whole block.</summary>
    public Compiler.CompiledCode? Compiled;
    /// <summary>Set when the block is not worth translating (nothing in it becomes IL, or 16-bit code).</summary>
    public bool NoCompile;
}
