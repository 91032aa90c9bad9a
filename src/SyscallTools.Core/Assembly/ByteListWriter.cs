using Iced.Intel;

namespace SyscallTools.Core.Assembly;

/// <summary>Iced's code writer into a list of bytes: the one every assembling caller (stubs, call sites, scenarios, probes) uses.</summary>
public sealed class ByteListWriter : CodeWriter
{
    public List<byte> Bytes { get; } = new();

    public override void WriteByte(byte value) => Bytes.Add(value);

    /// <summary>Assembles what <paramref name="body"/> emits for address <paramref name="ip"/> and returns the bytes.</summary>
    public static byte[] Assemble(int bitness, ulong ip, Action<Assembler> body)
    {
        var a = new Assembler(bitness);
        body(a);
        var w = new ByteListWriter();
        a.Assemble(w, ip);
        return w.Bytes.ToArray();
    }
}
