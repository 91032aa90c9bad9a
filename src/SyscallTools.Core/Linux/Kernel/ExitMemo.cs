using SyscallTools.Core.Linux.Models;

namespace SyscallTools.Core.Linux;

/// <summary>
/// What the machine keeps between exit decisions, one set per exit path that tests anything (64-bit SYSCALL, fast
/// 32-bit; int $0x80 and exceptions always leave by the model's one IRET decision): the
/// last <see cref="ExitInputs"/> (re-used while every fact is the same) and a re-usable <see cref="ExitLadder"/> that
/// hands back its previous decision when the model's checks come out the same. The policy itself runs on every call;
/// what is spared is building the same immutable answer again.
/// </summary>
internal sealed class ExitMemo
{
    private readonly ExitInputs?[] _inputs = new ExitInputs?[2];
    private readonly ExitLadder[] _ladders = [new("", ""), new("", "")];

    public ExitDecision Decide(KernelModel model, EntryKind entry, PtRegs regs, ulong landingPad, bool argFetchOk,
        ThreadFlags flags, bool cpuHasSep, bool slowPath, bool fastSyscallFlag, bool ptRegsWritten)
    {
        int path = entry switch
        {
            EntryKind.Syscall64 => 0,
            EntryKind.SyscallCompat or EntryKind.Sysenter => 1,
            _ => 2,
        };
        if (path == 2) return model.Int80Decision;           // int $0x80's decision does not depend on the inputs
        var x = _inputs[path];
        if (x is null || !ReferenceEquals(x.Regs, regs) || x.LandingPad != landingPad || x.ArgFetchOk != argFetchOk
            || x.Flags != flags || x.CpuHasSep != cpuHasSep || x.SlowPath != slowPath
            || x.FastSyscallFlag != fastSyscallFlag || x.PtRegsWritten != ptRegsWritten)
            _inputs[path] = x = new ExitInputs(regs, regs.KernelBits, landingPad, argFetchOk, flags, cpuHasSep, slowPath,
                fastSyscallFlag, ptRegsWritten) { Ladder = _ladders[path] };
        return path == 0 ? model.Syscall64Exit(x) : model.FastSyscall32Exit(x);
    }
}
