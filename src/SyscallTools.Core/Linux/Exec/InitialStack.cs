using System.Text;

namespace SyscallTools.Core.Linux.Exec;

/// <summary>
/// The stack exec hands a new program, built the way fs/exec.c and fs/binfmt_elf.c build it. From the top down:
/// one empty pointer-sized slot (<c>bprm->p = vma->vm_end - sizeof(void *)</c>, the kernel's pointer size), the file
/// name (<c>bprm->exec</c>, AT_EXECFN), the environment strings, the argument strings (copy_strings copies the last
/// string first, so in memory they ascend in order); then create_elf_tables: <c>arch_align_stack</c> (16 bytes, no
/// randomization), the platform string (AT_PLATFORM), the 16 AT_RANDOM bytes, and below them argc, argv[], NULL,
/// envp[], NULL and the auxiliary vector, whose start <c>STACK_ROUND(sp, items)</c> puts on a 16-byte boundary.
/// </summary>
public sealed class InitialStack
{
    /// <summary>The stack pointer the program starts with (pointing at argc).</summary>
    public required ulong Sp { get; init; }
    /// <summary>The lowest address written; <see cref="Bytes"/> covers [Base, Top).</summary>
    public required ulong Base { get; init; }
    public required byte[] Bytes { get; init; }
    public required ulong ExecFn { get; init; }
    public required ulong Platform { get; init; }
    public required ulong Random { get; init; }
    /// <summary>The auxiliary vector as written, AT_NULL last.</summary>
    public required IReadOnlyList<(ulong Key, ulong Value)> Auxv { get; init; }

    /// <summary>
    /// Lays out the stack below <paramref name="top"/>. <paramref name="auxv"/> holds the entries in the kernel's
    /// order; the values of AT_EXECFN, AT_PLATFORM and AT_RANDOM are filled in here, where their strings land.
    /// </summary>
    /// <param name="word">sizeof(elf_addr_t) for the task: 4 for i386, 8 for x86-64.</param>
    /// <param name="kernelPointer">sizeof(void *) in the kernel: 8 on a 64-bit kernel even for a 32-bit task.</param>
    public static InitialStack Build(ulong top, int word, int kernelPointer, IReadOnlyList<string> argv, IReadOnlyList<string> envp,
        string execFn, string platform, ReadOnlySpan<byte> random16, IReadOnlyList<(ulong Key, ulong Value)> auxv)
    {
        var strings = new List<(ulong At, byte[] Bytes)>();
        ulong p = top - (ulong)kernelPointer;
        ulong Push(string s)
        {
            var b = Encoding.UTF8.GetBytes(s + "\0");
            p -= (ulong)b.Length;
            strings.Add((p, b));
            return p;
        }
        ulong execFnAt = Push(execFn);
        // copy_strings(envc, envp) then copy_strings(argc, argv): each copies from the last string to the first.
        var envAt = new ulong[envp.Count];
        for (int i = envp.Count - 1; i >= 0; i--) envAt[i] = Push(envp[i]);
        var argAt = new ulong[argv.Count];
        for (int i = argv.Count - 1; i >= 0; i--) argAt[i] = Push(argv[i]);

        // create_elf_tables: p = arch_align_stack(p) — "sp & ~0xf" (the random subtraction needs PF_RANDOMIZE).
        p &= ~0xFUL;
        ulong platformAt = Push(platform);
        p -= 16;
        ulong randomAt = p;
        strings.Add((randomAt, random16.ToArray()));

        var filled = auxv.Select(e => e.Key switch
        {
            AuxVector.AT_EXECFN => (e.Key, execFnAt),
            AuxVector.AT_PLATFORM => (e.Key, platformAt),
            AuxVector.AT_RANDOM => (e.Key, randomAt),
            _ => e,
        }).ToList();
        if (filled.Count == 0 || filled[^1].Key != AuxVector.AT_NULL) filled.Add((AuxVector.AT_NULL, 0));

        // sp = STACK_ADD(p, ei_index); items = (argc + 1) + (envc + 1) + 1; bprm->p = STACK_ROUND(sp, items).
        ulong w = (ulong)word;
        ulong sp = p - (ulong)(2 * filled.Count) * w;
        ulong items = (ulong)(argv.Count + 1 + envp.Count + 1 + 1);
        sp = (sp - items * w) & ~0xFUL;

        var bytes = new byte[top - sp];
        void Put(ulong at, ulong value)
        {
            UserWords.Put(bytes, (int)(at - sp), value, word);
        }
        ulong q = sp;
        Put(q, (ulong)argv.Count); q += w;
        foreach (var a in argAt) { Put(q, a); q += w; }
        Put(q, 0); q += w;
        foreach (var e in envAt) { Put(q, e); q += w; }
        Put(q, 0); q += w;
        foreach (var (k, v) in filled) { Put(q, k); q += w; Put(q, v); q += w; }
        foreach (var (at, b) in strings) b.CopyTo(bytes, (int)(at - sp));
        return new InitialStack
        {
            Sp = sp, Base = sp, Bytes = bytes, ExecFn = execFnAt, Platform = platformAt, Random = randomAt, Auxv = filled,
        };
    }
}
