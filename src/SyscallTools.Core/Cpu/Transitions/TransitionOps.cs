using Iced.Intel;
using SyscallTools.Core.Cpu.Decoding;

namespace SyscallTools.Core.Cpu.Semantics;

/// <summary>Binds the privilege transitions, each implemented in its own file: SYSCALL SYSRET SYSENTER SYSEXIT INT IRET.</summary>
internal static class Transitions
{
    public static Exec? Bind(Op op) => op.Mnemonic switch
    {
        Mnemonic.Syscall => Cpu.Syscall,
        Mnemonic.Sysret or Mnemonic.Sysretq => Cpu.Sysret,
        Mnemonic.Sysenter => Cpu.Sysenter,
        Mnemonic.Sysexit or Mnemonic.Sysexitq => Cpu.Sysexit,
        Mnemonic.Iret or Mnemonic.Iretd or Mnemonic.Iretq => Cpu.Iret,
        Mnemonic.Int => Cpu.SoftwareInterrupt,
        Mnemonic.Int3 => Cpu.SoftwareInterrupt,
        Mnemonic.Into => Cpu.SoftwareInterrupt,
        Mnemonic.Int1 => Cpu.SoftwareInterrupt,
        _ => null,
    };
}
