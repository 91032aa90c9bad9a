using System.Collections;
using System.Management.Automation;
using SyscallTools.Completion;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Ptrace;
using SyscallTools.Errors;

namespace SyscallTools.Commands;

/// <summary>Where a tracer edit applies.</summary>
public enum PtraceStopPoint { SyscallEntry, SyscallExit }

/// <summary>
/// What a ptracer does at a syscall stop: writes registers into pt_regs (PTRACE_POKEUSER) at the next syscall-entry
/// or syscall-exit stop, or at every one with -Persist. Writes obey the kernel's putreg rules: a selector must be
/// non-null with RPL 3, flags are masked to the user-changeable set, a 32-bit tracee's orig_ax is sign-extended. A
/// write that breaks a fast-exit condition makes the exit policy choose IRET — Get-ExitPath shows which check.
/// </summary>
[Cmdlet(VerbsCommon.Set, "PtRegs", SupportsShouldProcess = true, DefaultParameterSetName = Values)]
[OutputType(typeof(PtRegsEdit))]
public sealed class SetPtRegsCommand : PSCmdlet
{
    public const string Values = nameof(Values);

    /// <summary>The machine whose task is traced.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    public EmuCpu Cpu { get; set; } = null!;

    /// <summary>The stop at which the edit applies.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    public PtraceStopPoint At { get; set; }

    [Parameter][RegisterValueTransformation] public ulong? Ip { get; set; }
    [Parameter][RegisterValueTransformation] public ulong? Sp { get; set; }
    [Parameter][RegisterValueTransformation] public ulong? Ax { get; set; }
    [Parameter][RegisterValueTransformation] public ulong? OrigAx { get; set; }
    [Parameter][RegisterValueTransformation] public ulong? Bx { get; set; }
    [Parameter][RegisterValueTransformation] public ulong? Cx { get; set; }
    [Parameter][RegisterValueTransformation] public ulong? Dx { get; set; }
    [Parameter][RegisterValueTransformation] public ulong? Si { get; set; }
    [Parameter][RegisterValueTransformation] public ulong? Di { get; set; }
    [Parameter][RegisterValueTransformation] public ulong? Bp { get; set; }
    [Parameter][RegisterValueTransformation] public ulong? R8 { get; set; }
    [Parameter][RegisterValueTransformation] public ulong? R9 { get; set; }
    [Parameter][RegisterValueTransformation] public ulong? R10 { get; set; }
    [Parameter][RegisterValueTransformation] public ulong? R11 { get; set; }
    [Parameter][RegisterValueTransformation] public ulong? R12 { get; set; }
    [Parameter][RegisterValueTransformation] public ulong? R13 { get; set; }
    [Parameter][RegisterValueTransformation] public ulong? R14 { get; set; }
    [Parameter][RegisterValueTransformation] public ulong? R15 { get; set; }
    [Parameter][RegisterValueTransformation] public ulong? Flags { get; set; }
    [Parameter][RegisterValueTransformation] public ulong? Cs { get; set; }
    [Parameter][RegisterValueTransformation] public ulong? Ss { get; set; }

    /// <summary>More registers by pt_regs name: @{ orig_ax = 39; r11 = 0x246 }.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(RegisterNameCompleter))]
    public Hashtable? Register { get; set; }

    /// <summary>Runs at the stop with the stop as $_ (Kind, Regs, Peek(name), Poke(name, value)); it may change anything.</summary>
    [Parameter]
    public ScriptBlock? ScriptBlock { get; set; }

    /// <summary>Apply at every matching stop, not only the next one.</summary>
    [Parameter]
    public SwitchParameter Persist { get; set; }

    /// <summary>Write the queued edit to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var m = Cpu.Machine;
        if (m.Task.Exited)
        {
            WriteError(Errors.Errors.Record(ErrorIds.TaskExited, ErrorCategory.InvalidOperation, Cpu,
                "The task has exited: there is nothing to trace. Make a new machine with New-EmuCpu."));
            return;
        }
        var writes = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var (name, value) in new (string, ulong?)[]
        {
            ("ip", Ip), ("sp", Sp), ("ax", Ax), ("orig_ax", OrigAx), ("bx", Bx), ("cx", Cx), ("dx", Dx), ("si", Si),
            ("di", Di), ("bp", Bp), ("r8", R8), ("r9", R9), ("r10", R10), ("r11", R11), ("r12", R12), ("r13", R13),
            ("r14", R14), ("r15", R15), ("flags", Flags), ("cs", Cs), ("ss", Ss),
        })
        {
            if (value is ulong v) writes[name] = v;
        }
        if (Register is not null)
        {
            foreach (DictionaryEntry kv in Register)
            {
                string name = kv.Key.ToString()!.Trim().ToLowerInvariant();
                ulong v;
                if (kv.Value is null)
                {
                    WriteError(Errors.Errors.Record(ErrorIds.InvalidRegisterValue, ErrorCategory.InvalidArgument, name,
                        $"-Register {name} has no value. Give a number, e.g. @{{ {name} = 0x202 }}."));
                    return;
                }
                try { v = (ulong)new RegisterValueTransformationAttribute().Transform(null!, kv.Value)!; }
                catch (ArgumentTransformationMetadataException e)
                {
                    WriteError(Errors.Errors.Record(ErrorIds.InvalidRegisterValue, ErrorCategory.InvalidArgument, kv.Value,
                        $"-Register {name}: {e.Message}"));
                    return;
                }
                writes[name] = v;
            }
        }
        if (writes.Count == 0 && ScriptBlock is null)
        {
            WriteError(Errors.Errors.Record(ErrorIds.InvalidCombination, ErrorCategory.InvalidArgument, null,
                "Nothing to write: give at least one register (-Ip, -OrigAx, -Register @{...}) or a -ScriptBlock."));
            return;
        }

        // Check every write now, against the rules the kernel will apply at the stop.
        var allowed = m.Task.Bitness == 64
            ? new[] { "r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9", "r8", "ax", "cx", "dx", "si", "di", "orig_ax", "ip", "cs", "flags", "sp", "ss" }
            : new[] { "bx", "cx", "dx", "si", "di", "bp", "ax", "orig_ax", "ip", "cs", "flags", "sp", "ss" };
        foreach (var name in writes.Keys.ToList())
        {
            // PowerShell reads 0xffffffff as the Int32 -1; for a 32-bit tracee a sign-extended 32-bit value means its low half.
            ulong raw = writes[name];
            if (m.Task.Bitness == 32 && raw >= 0xFFFF_FFFF_8000_0000) writes[name] = (uint)raw;
        }
        foreach (var (name, value) in writes)
        {
            if (!allowed.Contains(name))
            {
                WriteError(Errors.Errors.Record(ErrorIds.UnknownRegister, ErrorCategory.InvalidArgument, name,
                    $"A tracer of a {m.Task.Bitness}-bit task cannot write '{name}'. Use one of: {string.Join(", ", allowed)}."));
                return;
            }
            if (m.Task.Bitness == 32 && value > uint.MaxValue && name != "orig_ax")
            {
                WriteError(Errors.Errors.Record(ErrorIds.InvalidRegisterValue, ErrorCategory.InvalidArgument, value,
                    $"{name} = 0x{value:x} does not fit a 32-bit tracee's register. Give a value up to 0xffffffff."));
                return;
            }
            try { PutRegRules.Apply(name, value, 0, m.Task.Bitness, m.KernelBits); }
            catch (PtraceWriteException e)
            {
                WriteError(Errors.Errors.Record(ErrorIds.RejectedRegisterWrite, ErrorCategory.InvalidArgument, value,
                    $"{e.Message}. Give a user selector (RPL 3, e.g. 0x{(m.KernelBits == 64 ? (m.Task.Bitness == 64 ? 0x33 : 0x23) : 0x73):x} for cs)."));
                return;
            }
        }

        var edit = new PtRegsEdit
        {
            At = At == PtraceStopPoint.SyscallEntry ? PtraceStopKind.SyscallEntry : PtraceStopKind.SyscallExit,
            Registers = writes,
            ScriptBlock = ScriptBlock,
            Persist = Persist,
        };
        if (!ShouldProcess(Cpu.ToString(), $"write {edit}")) return;
        var script = ScriptBlock;
        Cpu.AddEdit(edit, (e, stop) =>
        {
            foreach (var (name, value) in e.Registers) stop.Poke(name, value);
            // The scriptblock runs here, on the pipeline thread that is running Invoke-Syscall.
            e.ScriptBlock?.InvokeWithContext(null, [new PSVariable("_", stop)], stop);
        });
        if (PassThru) WriteObject(edit);
    }
}
