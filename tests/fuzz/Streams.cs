using Iced.Intel;

namespace SyscallTools.Fuzz;

/// <summary>Random and mutated x86 instruction streams, and the register values worth trying.</summary>
public static class Streams
{
    /// <summary>Byte sequences that matter at the system-call boundary, per code bitness.</summary>
    private static byte[][] Snippets(int bits) => bits == 64
        ?
        [
            [0x0F, 0x05],                                     // syscall
            [0xCD, 0x80],                                     // int 0x80
            [0x0F, 0x34],                                     // sysenter
            [0xB8, 0x27, 0, 0, 0, 0x0F, 0x05],                // mov eax, 39 (getpid); syscall
            [0xB8, 0x14, 0, 0, 0, 0xCD, 0x80],                // mov eax, 20 (getpid, i386); int 0x80
            [0x9C, 0x48, 0x81, 0x0C, 0x24, 0x00, 0x01, 0, 0, 0x9D], // pushf; or qword [rsp], 0x100 (TF); popf
            [0x9C, 0x48, 0x81, 0x0C, 0x24, 0x00, 0x40, 0, 0, 0x9D], // pushf; or qword [rsp], 0x4000 (NT); popf
            [0x48, 0xB9, 0, 0, 0, 0, 0, 0x80, 0, 0],           // mov rcx, 0x0000800000000000 (non-canonical after syscall)
            [0x8E, 0xD0],                                     // mov ss, eax
            [0x0F, 0x0B],                                     // ud2
            [0xCC], [0xF1], [0xF4], [0xFA], [0xFB],           // int3, icebp, hlt, cli, sti
            [0xFF, 0xE0],                                     // jmp rax
            [0x6A, 0x23, 0x68, 0, 0, 0, 0, 0x48, 0xCB],       // push 0x23; push 0; retfq (to compat mode)
            [0x0F, 0x01, 0xF8],                               // swapgs (ring 0 only)
            [0x0F, 0x07],                                     // sysret
            [0x48, 0xCF],                                     // iretq
        ]
        :
        [
            [0xCD, 0x80],                                     // int 0x80
            [0x0F, 0x34],                                     // sysenter
            [0x0F, 0x05],                                     // syscall
            [0xB8, 0x14, 0, 0, 0, 0xCD, 0x80],                // mov eax, 20; int 0x80
            [0x51, 0x52, 0x55, 0x89, 0xE5, 0x0F, 0x34],       // push ecx; push edx; push ebp; mov ebp, esp; sysenter
            [0x51, 0x52, 0x55, 0x89, 0xCD, 0x0F, 0x05],       // push ecx; push edx; push ebp; mov ebp, ecx; syscall
            [0x9C, 0x81, 0x0C, 0x24, 0x00, 0x01, 0, 0, 0x9D], // pushf; or dword [esp], 0x100 (TF); popf
            [0x9C, 0x81, 0x0C, 0x24, 0x00, 0x40, 0, 0, 0x9D], // pushf; or dword [esp], 0x4000 (NT); popf
            [0x9C, 0x81, 0x0C, 0x24, 0x00, 0x00, 0x04, 0, 0x9D], // pushf; or dword [esp], 0x40000 (AC); popf
            [0x8E, 0xD0],                                     // mov ss, eax
            [0x8E, 0xD8], [0x8E, 0xE0], [0x8E, 0xE8],         // mov ds/fs/gs, eax
            [0x0F, 0x0B], [0xCC], [0xF1], [0xF4], [0xFA], [0xFB], [0xCE],
            [0xFF, 0xE0],                                     // jmp eax
            [0x6A, 0x33, 0x68, 0, 0, 0, 0, 0xCB],             // push 0x33; push 0; retf (to 64-bit mode)
            [0x0F, 0x35],                                     // sysexit
            [0xCF],                                           // iret
            [0x61], [0x60],                                   // popa, pusha
        ];

    /// <summary>Random bytes with a few entry instructions sprinkled in.</summary>
    public static byte[] RandomBytes(Random r, int bits)
    {
        var code = new byte[r.Next(1, 160)];
        r.NextBytes(code);
        var snippets = Snippets(bits);
        int n = r.Next(0, 5);
        for (int k = 0; k < n; k++)
        {
            var s = snippets[r.Next(snippets.Length)];
            if (s.Length > code.Length) continue;
            s.CopyTo(code, r.Next(code.Length - s.Length + 1));
        }
        return code;
    }

    /// <summary>A stream of valid instructions (random bytes that decode) and boundary snippets, then mutated.</summary>
    public static byte[] Mutated(Random r, int bits)
    {
        var code = new List<byte>();
        var snippets = Snippets(bits);
        int count = r.Next(1, 40);
        var buffer = new byte[16];
        for (int k = 0; k < count; k++)
        {
            if (r.Next(4) == 0) { code.AddRange(snippets[r.Next(snippets.Length)]); continue; }
            for (int tries = 0; tries < 8; tries++)
            {
                r.NextBytes(buffer);
                var d = Decoder.Create(bits, buffer);
                d.Decode(out var insn);
                if (insn.IsInvalid) continue;
                code.AddRange(buffer.AsSpan(0, insn.Length).ToArray());
                break;
            }
        }
        // Mutate: flip bits, overwrite with an interesting byte, delete, duplicate.
        int edits = r.Next(0, 4);
        for (int e = 0; e < edits && code.Count > 0; e++)
        {
            int at = r.Next(code.Count);
            switch (r.Next(4))
            {
                case 0: code[at] ^= (byte)(1 << r.Next(8)); break;
                case 1: code[at] = Interesting8[r.Next(Interesting8.Length)]; break;
                case 2: code.RemoveAt(at); break;
                default: code.InsertRange(at, code.GetRange(at, Math.Min(r.Next(1, 8), code.Count - at))); break;
            }
        }
        if (code.Count == 0) code.Add(0x90);
        return code.Count > 0x6000 ? code.GetRange(0, 0x6000).ToArray() : code.ToArray();
    }

    private static readonly byte[] Interesting8 = [0x0F, 0xCD, 0x80, 0x05, 0x34, 0x35, 0x07, 0xCC, 0xCF, 0xF1, 0x66, 0x67, 0xF0, 0xF3, 0x48, 0x8E, 0xFF, 0x00];

    /// <summary>Register values worth trying: zero, small, sign boundaries, canonical edges, kernel and user addresses.</summary>
    public static ulong Value(Random r, int bits)
    {
        ulong v = r.Next(14) switch
        {
            0 => 0,
            1 => (ulong)r.Next(0, 512),
            2 => ulong.MaxValue,
            3 => 0xFFFF_FFFF,
            4 => 0x8000_0000,
            5 => 0x7FFF_FFFF_FFFF,             // last canonical lower-half byte
            6 => 0x0000_8000_0000_0000,        // first non-canonical
            7 => 0xFFFF_8000_0000_0000,        // first canonical upper-half
            8 => 0xFFFF_FFFF_8100_0000,        // 64-bit kernel text
            9 => 0xC100_0000,                  // 32-bit kernel text
            10 => 0x0804_8000 + (ulong)r.Next(0, 0x10000), // user text
            11 => 0xBFFE_0000 + (ulong)r.Next(0, 0x10000), // user stack
            12 => 0xB7FF_0000 + (ulong)r.Next(0, 0x1000),  // 32-bit vDSO
            _ => (ulong)r.NextInt64() ^ ((ulong)r.Next() << 33),
        };
        return bits == 32 ? (uint)v : v;
    }

    public static string Hex(byte[] b) => Convert.ToHexString(b).ToLowerInvariant();
}
