using System.Diagnostics;
using System.Runtime.InteropServices;

namespace SyscallTools.Bench.Peers;

/// <summary>
/// Unicorn 2 (Debian's libunicorn2, libunicorn.so.2) through P/Invoke: the same loops, with the system call answered
/// by a hook in C# (int $0x80 through UC_HOOK_INTR, SYSCALL through UC_HOOK_INSN) — what a Unicorn user does.
/// </summary>
public static unsafe class Unicorn
{
    private const string Lib = "libunicorn.so.2";
    private const int ArchX86 = 4, Mode32 = 1 << 2, Mode64 = 1 << 3, ProtAll = 7, HookIntr = 1, HookInsn = 2, InsSyscall = 699;
    private const int RegEax = 19, RegEcx = 22, RegEsp = 30, RegRax = 35, RegRcx = 38, RegRsp = 44;

    [DllImport(Lib)] private static extern int uc_open(int arch, int mode, out IntPtr uc);
    [DllImport(Lib)] private static extern int uc_close(IntPtr uc);
    [DllImport(Lib)] private static extern int uc_mem_map(IntPtr uc, ulong address, nuint size, uint perms);
    [DllImport(Lib)] private static extern int uc_mem_write(IntPtr uc, ulong address, byte[] bytes, nuint size);
    [DllImport(Lib)] private static extern int uc_reg_write(IntPtr uc, int regid, ref ulong value);
    [DllImport(Lib)] private static extern int uc_reg_read(IntPtr uc, int regid, out ulong value);
    [DllImport(Lib)] private static extern int uc_emu_start(IntPtr uc, ulong begin, ulong until, ulong timeout, nuint count);
    [DllImport(Lib)] private static extern int uc_hook_add(IntPtr uc, out IntPtr hook, int type, IntPtr callback, IntPtr userData, ulong begin, ulong end);
    [DllImport(Lib, EntryPoint = "uc_hook_add")] private static extern int uc_hook_add_insn(IntPtr uc, out IntPtr hook, int type, IntPtr callback, IntPtr userData, ulong begin, ulong end, int insn);

    private static readonly Lazy<string?> _missing = new(() =>
    {
        try { return uc_open(ArchX86, Mode32, out var uc) == 0 && uc_close(uc) == 0 ? null : "uc_open failed"; }
        catch (DllNotFoundException) { return "libunicorn.so.2 is not installed (Debian: apt-get install libunicorn2)"; }
        catch (EntryPointNotFoundException e) { return "libunicorn.so.2 is not Unicorn 2: " + e.Message; }
    });

    public static string? Missing => _missing.Value;

    private const ulong Code = 0x40_0000, Stack = 0x70_0000;

    /// <summary>W1: seconds for <paramref name="iterations"/> trips round the ALU loop.</summary>
    public static double AluLoop(int bits, long iterations)
    {
        byte[] loop = bits == 32
            ? [0x01, 0xC8, 0x35, 0x5A, 0x5A, 0x00, 0x00, 0x49, 0x75, 0xF6]            // add eax,ecx; xor eax,0x5a5a; dec ecx; jnz
            : [0x48, 0x01, 0xC8, 0x48, 0x35, 0x5A, 0x5A, 0x00, 0x00, 0x48, 0xFF, 0xC9, 0x75, 0xF2];
        var uc = Open(bits, loop);
        try
        {
            ulong n = (ulong)iterations;
            uc_reg_write(uc, bits == 32 ? RegEcx : RegRcx, ref n);
            var clock = Stopwatch.StartNew();
            Check(uc_emu_start(uc, Code, Code + (ulong)loop.Length, 0, 0));
            return clock.Elapsed.TotalSeconds;
        }
        finally { uc_close(uc); }
    }

    private static int _pid = 4242;

    [UnmanagedCallersOnly]
    private static void OnInterrupt(IntPtr uc, uint intno, IntPtr user)
    {
        if (intno != 0x80) return;
        ulong pid = (ulong)_pid;
        uc_reg_write(uc, RegEax, ref pid);                                  // getpid, answered in C#
    }

    [UnmanagedCallersOnly]
    private static void OnSyscall(IntPtr uc, IntPtr user)
    {
        ulong pid = (ulong)_pid;
        uc_reg_write(uc, RegRax, ref pid);
    }

    /// <summary>W2 (int $0x80 from 32-bit code) or W4 (64-bit SYSCALL): seconds for <paramref name="calls"/> getpid calls.</summary>
    public static double GetpidLoop(int bits, long calls)
    {
        // 32: mov esi, n; top: mov eax, 20; int 0x80; dec esi; jnz top   64: mov r12, n; top: mov eax, 39; syscall; dec r12; jnz top
        byte[] loop = bits == 32
            ? [0xB8, 20, 0, 0, 0, 0xCD, 0x80, 0x4E, 0x75, 0xF6]
            : [0xB8, 39, 0, 0, 0, 0x0F, 0x05, 0x49, 0xFF, 0xCC, 0x75, 0xF4];
        var uc = Open(bits, loop);
        try
        {
            ulong n = (ulong)calls;
            uc_reg_write(uc, bits == 32 ? 29 /* ESI */ : 110 /* R12 */, ref n);
            IntPtr hook;
            if (bits == 32) Check(uc_hook_add(uc, out hook, HookIntr, (IntPtr)(delegate* unmanaged<IntPtr, uint, IntPtr, void>)&OnInterrupt, IntPtr.Zero, 1, 0));
            else Check(uc_hook_add_insn(uc, out hook, HookInsn, (IntPtr)(delegate* unmanaged<IntPtr, IntPtr, void>)&OnSyscall, IntPtr.Zero, 1, 0, InsSyscall));
            var clock = Stopwatch.StartNew();
            Check(uc_emu_start(uc, Code, Code + (ulong)loop.Length, 0, 0));
            double s = clock.Elapsed.TotalSeconds;
            uc_reg_read(uc, bits == 32 ? RegEax : RegRax, out ulong ax);
            if (ax != (ulong)_pid) throw new InvalidOperationException($"unicorn's getpid loop ended with ax={ax}");
            return s;
        }
        finally { uc_close(uc); }
    }

    private static IntPtr Open(int bits, byte[] code)
    {
        Check(uc_open(ArchX86, bits == 32 ? Mode32 : Mode64, out var uc));
        Check(uc_mem_map(uc, Code, 0x1000, ProtAll));
        Check(uc_mem_map(uc, Stack - 0x1000, 0x1000, ProtAll));
        Check(uc_mem_write(uc, Code, code, (nuint)code.Length));
        ulong sp = Stack - 0x100;
        uc_reg_write(uc, bits == 32 ? RegEsp : RegRsp, ref sp);
        return uc;
    }

    private static void Check(int err)
    {
        if (err != 0) throw new InvalidOperationException($"unicorn error {err}");
    }
}
