using Iced.Intel;

namespace SyscallTools.Core.Tests.Support;

/// <summary>Assembles test code with Iced's assembler at a given address.</summary>
public static class Asm
{
    public static byte[] Build(int bitness, ulong ip, Action<Assembler> body) => Core.Assembly.ByteListWriter.Assemble(bitness, ip, body);
}
