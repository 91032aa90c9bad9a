using System.Management.Automation;
using SyscallTools.Core.Elf;
using SyscallTools.Core.Elf.Cfi;
using SyscallTools.Errors;

namespace SyscallTools.Commands;

/// <summary>
/// Describes the task's 32-bit vDSO: base, image, symbols, landing pad, its code as mapped (alternatives applied) with
/// the CFI row in force at every instruction, and the CFI table of every FDE of its .eh_frame.
/// </summary>
[Cmdlet(VerbsCommon.Get, "EmuVdso")]
[OutputType(typeof(VdsoDetail))]
public sealed class GetEmuVdsoCommand : PSCmdlet
{
    /// <summary>The machine whose vDSO to describe (New-EmuCpu).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    public EmuCpu Cpu { get; set; } = null!;

    protected override void ProcessRecord()
    {
        var m = Cpu.Machine;
        var image = m.Vdso;
        if (image is null || m.Task.VdsoBase == 0)
        {
            WriteError(Errors.Errors.Record(ErrorIds.InvalidCombination, ErrorCategory.InvalidArgument, Cpu,
                "This machine's task has no 32-bit vDSO (a 64-bit task, or New-EmuCpu -NoVdso)."));
            return;
        }
        ulong b = m.Task.VdsoBase;
        EhFrame? frame = null;
        string? cfiError = null;
        try { frame = image.ReadEhFrame(b); }
        catch (ElfFormatException e) { cfiError = e.Message; }

        // Disassemble each function from its symbol (or its FDE) to the next symbol, as mapped.
        var starts = image.Symbols.Values.Where(v => v < image.MappedSize).Distinct().Select(v => b + (ulong)v).ToList();
        if (frame is not null) starts.AddRange(frame.Fdes.Select(f => f.PcBegin));
        var instructions = new List<VdsoInstruction>();
        foreach (var fn in image.Symbols.Where(kv => kv.Key.StartsWith("__kernel_", StringComparison.Ordinal)).OrderBy(kv => kv.Value))
        {
            ulong at = b + (ulong)fn.Value;
            var fde = frame?.FindFde(at);
            ulong end = fde?.PcEnd ?? Math.Min(starts.Where(s => s > at).DefaultIfEmpty(at + 16).Min(), at + 64);
            while (at < end)
            {
                var text = m.Cpu.Disassemble(at, 32) ?? "?";
                int len = Math.Max(1, InstructionLength(m, at));
                var row = frame?.RowAt(at);
                instructions.Add(new VdsoInstruction(at, m.Symbolize(at), Convert.ToHexString(m.Memory.ReadBytes(at, len)).ToLowerInvariant(),
                    text, row?.Cfa.ToString(), row is null ? null : string.Join(' ', row.Registers.OrderBy(r => r.Key).Select(r => $"{Dwarf.RegisterName(r.Key)}={r.Value}"))));
                at += (ulong)len;
            }
        }
        WriteObject(new VdsoDetail
        {
            Base = b,
            Size = image.MappedSize,
            Flavor = image.Flavor,
            EntryVariant = image.EntryVariant,
            SourcePath = image.SourcePath,
            KernelVsyscall = m.KernelVsyscall,
            LandingPad = image.LandingPad is int lp ? b + (ulong)lp : null,
            SysenterReturn = image.SysenterReturn is int sr ? b + (ulong)sr : null,
            Symbols = image.Symbols.OrderBy(kv => kv.Value).Select(kv => new VdsoSymbol(kv.Key, b + (ulong)kv.Value, kv.Value)).ToArray(),
            Instructions = instructions,
            Cfi = frame?.Fdes.SelectMany(f => f.Rows).ToArray() ?? [],
            CfiError = cfiError,
            Notes = image.Notes,
        });
    }

    private static int InstructionLength(Core.Linux.LinuxMachine m, ulong at)
    {
        var bytes = m.Memory.ReadBytes(at, 16);
        var decoder = Iced.Intel.Decoder.Create(32, bytes, at);
        decoder.Decode(out var insn);
        return insn.Length;
    }
}
