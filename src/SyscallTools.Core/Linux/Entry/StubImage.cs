using Iced.Intel;

namespace SyscallTools.Core.Linux.Entry;

/// <summary>Assembled entry code: the bytes, where they go, and the address of every label (for traces and the IDT/MSRs).</summary>
public sealed class StubImage
{
    public required ulong Base { get; init; }
    public required byte[] Bytes { get; init; }
    public required IReadOnlyDictionary<string, ulong> Symbols { get; init; }

    public ulong this[string symbol] => Symbols[symbol];
}

/// <summary>Assembles stubs with Iced and keeps named labels, so code reads like the kernel's .S files.</summary>
internal sealed class StubAssembler
{
    private readonly Dictionary<string, Label> _labels = new();
    public Assembler A { get; }

    public StubAssembler(int bitness) => A = new Assembler(bitness);

    /// <summary>The label with this name, created on first use.</summary>
    public Label L(string name)
    {
        if (!_labels.TryGetValue(name, out var l)) _labels[name] = l = A.CreateLabel(name);
        return l;
    }

    private readonly Dictionary<string, string> _aliases = new();
    private int _lastLabelAt = -1;
    private string? _lastLabel;

    /// <summary>Places a named label here. Iced allows one label per instruction, so a second name becomes an alias.</summary>
    public void Here(string name)
    {
        if (_lastLabel is not null && _lastLabelAt == A.Instructions.Count)
        {
            _aliases[name] = _lastLabel;
            // Jumps already emitted to the alias must reach the same place: bind the alias label there too.
            if (_labels.TryGetValue(name, out var pending) && !pending.IsEmpty)
                throw new InvalidOperationException($"Label {name} was referenced before it became an alias; place it first.");
            return;
        }
        var l = L(name);
        A.Label(ref l);
        _labels[name] = l;
        _lastLabel = name;
        _lastLabelAt = A.Instructions.Count;
    }

    public StubImage Assemble(ulong at)
    {
        var writer = new Assembly.ByteListWriter();
        var result = A.Assemble(writer, at, BlockEncoderOptions.ReturnNewInstructionOffsets);
        var symbols = _labels.Where(kv => !_aliases.ContainsKey(kv.Key)).ToDictionary(kv => kv.Key, kv => result.GetLabelRIP(kv.Value));
        foreach (var (alias, target) in _aliases) symbols[alias] = symbols[target];
        return new StubImage { Base = at, Bytes = writer.Bytes.ToArray(), Symbols = symbols };
    }
}
