namespace SyscallTools.Core.Cpu.Decoding;

internal enum OperandKind : byte
{
    None,
    /// <summary>A general-purpose register, low 1/2/4/8 bytes.</summary>
    Reg,
    /// <summary>AH, CH, DH or BH: bits 15:8 of register 0..3.</summary>
    RegHigh8,
    Imm,
    Mem,
    /// <summary>An operand the generic readers do not handle (segment, control register...); the handler reads it from the Iced instruction.</summary>
    Other,
    /// <summary>An XMM register (Reg is its number 0..15); the SSE families read it as 128 bits.</summary>
    Xmm,
}

/// <summary>One operand of a decoded instruction, pre-resolved so execution never consults Iced.</summary>
internal struct Operand
{
    public OperandKind Kind;
    /// <summary>Operand size in bytes.</summary>
    public byte Size;
    public byte Reg;
    public const byte NoReg = 0xFF;
    public byte Base;
    public byte Index;
    public byte Scale;       // shift count 0..3
    public byte Seg;         // SegReg
    public byte AddrBytes;   // 2, 4 or 8
    /// <summary>Displacement (memory) or value (immediate).</summary>
    public ulong Value;
}
