namespace SyscallTools.Core.Cpu;

/// <summary>Segment registers in the hardware's Sreg encoding order.</summary>
public enum SegReg : byte
{
    ES, CS, SS, DS, FS, GS,
}
