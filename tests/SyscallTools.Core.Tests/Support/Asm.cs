using Iced.Intel;

namespace SyscallTools.Core.Tests.Support;

/// <summary>Assembles test code with Iced's assembler at a given address.</summary>
public static class Asm
{
    public static byte[] Build(int bitness, ulong ip, Action<Assembler> body)
    {
        var a = new Assembler(bitness);
        body(a);
        var writer = new MemoryCodeWriter();
        a.Assemble(writer, ip);
        return writer.ToArray();
    }

    /// <summary>A CodeWriter into a list, for tests that drive Iced's assembler themselves.</summary>
    public sealed class MemoryCodeWriter : CodeWriter
    {
        private readonly List<byte> _bytes = new();
        public List<byte> Bytes => _bytes;
        public override void WriteByte(byte value) => _bytes.Add(value);
        public byte[] ToArray() => _bytes.ToArray();
    }
}
