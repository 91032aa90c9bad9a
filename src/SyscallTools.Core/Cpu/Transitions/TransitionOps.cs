using Iced.Intel;
using SyscallTools.Core.Cpu.Decoding;

namespace SyscallTools.Core.Cpu.Semantics;

/// <summary>Binds the privilege transitions, each implemented in its own file: SYSCALL SYSRET SYSENTER SYSEXIT INT IRET.</summary>
internal sealed class Transitions
{
    public static readonly Transitions Instance = new();

    public Exec? Bind(Op op) => op.Mnemonic switch
    {
        Mnemonic.Syscall => static (c, o) => Cpu.Syscall(c, o),
        Mnemonic.Sysret or Mnemonic.Sysretq => static (c, o) => Cpu.Sysret(c, o),
        Mnemonic.Sysenter => static (c, o) => Cpu.Sysenter(c, o),
        Mnemonic.Sysexit or Mnemonic.Sysexitq => static (c, o) => Cpu.Sysexit(c, o),
        Mnemonic.Iret or Mnemonic.Iretd or Mnemonic.Iretq => static (c, o) => Cpu.Iret(c, o),
        Mnemonic.Int or Mnemonic.Int3 or Mnemonic.Into or Mnemonic.Int1 => static (c, o) => Cpu.SoftwareInterrupt(c, o),
        _ => null,
    };
}
