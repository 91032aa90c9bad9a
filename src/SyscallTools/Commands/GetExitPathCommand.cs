using System.Management.Automation;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Models;
using SyscallTools.Errors;

namespace SyscallTools.Commands;

/// <summary>
/// Shows why the kernel left the way it did: the exit instruction, the model, the reason, and every check of the
/// model's exit policy with its actual and expected value. Given -Cpu and -Entry instead of a result, it evaluates
/// the policy on a pt_regs you describe, without running anything (a what-if).
/// </summary>
[Cmdlet(VerbsCommon.Get, "ExitPath", DefaultParameterSetName = FromResult)]
[OutputType(typeof(ExitDecision))]
public sealed class GetExitPathCommand : PSCmdlet
{
    public const string FromResult = nameof(FromResult);
    public const string Hypothetical = nameof(Hypothetical);

    /// <summary>A result from Invoke-Syscall.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = FromResult)]
    public SyscallResult InputObject { get; set; } = null!;

    /// <summary>The machine whose kernel model's exit policy to evaluate.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = Hypothetical)]
    public EmuCpu Cpu { get; set; } = null!;

    /// <summary>Which exit policy: Syscall64 (SYSRETQ or IRET), Fast32 (SYSRETL/SYSEXIT or IRET) or Int80 (IRET).</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = Hypothetical)]
    public ExitEntry Entry { get; set; }

    /// <summary>pt_regs->ip: where user space resumes.</summary>
    [Parameter(ParameterSetName = Hypothetical)]
    [RegisterValueTransformation]
    public ulong? Ip { get; set; }

    /// <summary>pt_regs->cs.</summary>
    [Parameter(ParameterSetName = Hypothetical)]
    [RegisterValueTransformation]
    public ulong? Cs { get; set; }

    /// <summary>pt_regs->ss.</summary>
    [Parameter(ParameterSetName = Hypothetical)]
    [RegisterValueTransformation]
    public ulong? Ss { get; set; }

    /// <summary>pt_regs->flags (EFLAGS/RFLAGS).</summary>
    [Parameter(ParameterSetName = Hypothetical)]
    [RegisterValueTransformation]
    public ulong? Flags { get; set; }

    /// <summary>pt_regs->cx (SYSRET takes RIP from RCX).</summary>
    [Parameter(ParameterSetName = Hypothetical)]
    [RegisterValueTransformation]
    public ulong? Cx { get; set; }

    /// <summary>pt_regs->r11 (SYSRET takes RFLAGS from R11); 64-bit kernels only.</summary>
    [Parameter(ParameterSetName = Hypothetical)]
    [RegisterValueTransformation]
    public ulong? R11 { get; set; }

    /// <summary>pt_regs->sp.</summary>
    [Parameter(ParameterSetName = Hypothetical)]
    [RegisterValueTransformation]
    public ulong? Sp { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == FromResult)
        {
            if (InputObject.ExitPath is null)
            {
                string why = InputObject.Signal is string s
                    ? $"the call never reached an exit decision: {InputObject.EntryInstruction ?? "the entry instruction"} raised {s} in user mode"
                    : $"the call never reached an exit decision ({InputObject.Outcome})";
                WriteError(Errors.Errors.Record(ErrorIds.NoExitPath, ErrorCategory.ObjectNotFound, InputObject,
                    $"There is no exit path for {InputObject.Name} via {InputObject.Via}: {why}. Try another -Via, or ask a what-if with Get-ExitPath -Cpu -Entry."));
                return;
            }
            WriteObject(InputObject.ExitPath);
            return;
        }
        WriteWhatIf();
    }

    private void WriteWhatIf()
    {
        var m = Cpu.Machine;
        if (Entry == ExitEntry.Syscall64 && m.KernelBits == 32)
        {
            WriteError(Errors.Errors.Record(ErrorIds.InvalidCombination, ErrorCategory.InvalidArgument, Entry,
                "A 32-bit kernel has no 64-bit SYSCALL path. Use -Entry Fast32 (SYSEXIT) or -Entry Int80."));
            return;
        }
        if (R11 is not null && m.KernelBits == 32)
        {
            WriteError(Errors.Errors.Record(ErrorIds.UnknownRegister, ErrorCategory.InvalidArgument, "r11",
                "A 32-bit kernel's pt_regs has no r11. Leave out -R11, or use a machine with -KernelBits 64."));
            return;
        }
        foreach (var (name, value) in new[] { ("Ip", Ip), ("Cs", Cs), ("Ss", Ss), ("Flags", Flags), ("Cx", Cx), ("Sp", Sp) })
        {
            if (m.KernelBits == 32 && value > uint.MaxValue)
            {
                WriteError(Errors.Errors.Record(ErrorIds.InvalidRegisterValue, ErrorCategory.InvalidArgument, value,
                    $"-{name} 0x{value:x} does not fit: a 32-bit kernel's pt_regs fields are 32 bits wide. Give a value up to 0xffffffff."));
                return;
            }
        }

        var regs = m.PtRegs;
        int size = m.KernelBits == 64 ? PtRegs.Size64 : PtRegs.Size32;
        var saved = m.Memory.ReadBytes(regs.Address, size);
        try
        {
            if (Cpu.LastSyscall is null) WriteDefaults(m, regs);
            if (Ip is ulong ip) regs.Ip = ip;
            if (Cs is ulong cs) regs.Cs = cs;
            if (Ss is ulong ss) regs.Ss = ss;
            if (Flags is ulong fl) regs.Flags = fl;
            if (Cx is ulong cx) regs.Cx = cx;
            if (R11 is ulong r11) regs.R11 = r11;
            if (Sp is ulong sp) regs.Sp = sp;
            // An edit here stands for a tracer's write: force_iret() for the design models that track one.
            bool edited = Ip is not null || Cs is not null || Ss is not null || Flags is not null || Cx is not null || R11 is not null || Sp is not null;
            bool fresh = Cpu.LastSyscall is null;
            var inputs = new ExitInputs(regs, m.KernelBits, m.LandingPad, true, m.Task.Flags,
                m.Features.Contains("X86_FEATURE_SEP"), SlowPath: true,
                FastSyscallFlag: !edited && (fresh || m.Task.FastSyscall),
                PtRegsWritten: edited || (!fresh && m.Task.PtRegsWritten));
            var decision = Entry switch
            {
                ExitEntry.Syscall64 => m.Model.Syscall64Exit(inputs),
                ExitEntry.Fast32 => m.Model.FastSyscall32Exit(inputs),
                _ => m.Model.Int80Exit(inputs),
            };
            WriteObject(decision);
        }
        finally
        {
            // A what-if changes nothing: the kernel stack gets its bytes back.
            m.Memory.WriteBytes(regs.Address, saved);
        }
    }

    /// <summary>Before any system call, pt_regs holds nothing: start from what the entry would have saved.</summary>
    private void WriteDefaults(LinuxMachine m, PtRegs regs)
    {
        bool native64 = Entry == ExitEntry.Syscall64;
        regs.Cs = m.KernelBits == 32 ? Selectors.X86.UserCs : native64 ? Selectors.X64.UserCs : Selectors.X64.User32Cs;
        regs.Ss = m.KernelBits == 32 ? Selectors.X86.UserDs : Selectors.X64.UserDs;
        regs.Flags = 0x202;
        regs.Sp = m.InitialStackPointer;
        regs.Ip = Entry == ExitEntry.Fast32 ? m.LandingPad : m.UserText;
        if (m.KernelBits == 64)
        {
            regs.Cx = native64 ? regs.Ip : 0;
            regs.R11 = native64 ? regs.Flags : 0;
        }
    }
}
