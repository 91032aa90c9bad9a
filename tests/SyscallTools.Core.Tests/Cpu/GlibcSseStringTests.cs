using System.Diagnostics;
using SyscallTools.Core.Cpu;
using SyscallTools.Core.Elf;
using SyscallTools.Core.Memory;
using SyscallTools.Core.Tests.Support;
using Xunit;

namespace SyscallTools.Core.Tests.CpuTests;

using Cpu = SyscallTools.Core.Cpu.Cpu;

/// <summary>Skips unless gcc can link a static program for the bitness (gcc-multilib for 32-bit).</summary>
public sealed class GccStaticFactAttribute : FactAttribute
{
    public GccStaticFactAttribute(int bitness)
    {
        if (GlibcSseStringTests.Binary(bitness) is null) Skip = $"no gcc that links static {bitness}-bit programs (install gcc{(bitness == 32 ? "-multilib" : "")})";
    }
}

/// <summary>
/// glibc's own SSE2 string functions — the IFUNC variants a CPU reporting SSE2 and nothing beyond is given
/// (__strlen_sse2, __memchr_sse2, __strcpy_sse2_unaligned...) — taken from a static program gcc links here and called
/// directly in the emulator with the C calling convention, on random strings at random alignments, some ending at the
/// last byte of mapped memory (the functions read aligned 16-byte blocks and must never touch the next page). Every
/// result is checked against the C standard's definition of the function, computed here.
/// </summary>
public class GlibcSseStringTests
{
    private const string Source = """
        #define _GNU_SOURCE
        #include <string.h>
        void *volatile sink[16];
        int main(int argc, char **argv)
        {
            char *s = argv[0], buf[256];
            sink[0] = (void *)strlen(s); sink[1] = strchr(s, argc); sink[2] = strrchr(s, argc); sink[3] = memchr(s, argc, 4);
            sink[4] = rawmemchr(s, 0); sink[5] = (void *)strnlen(s, argc); sink[6] = strcpy(buf, s); sink[7] = memset(buf, argc, 8);
            sink[8] = memcpy(buf, s, argc); sink[9] = (void *)(long)memcmp(buf, s, argc); sink[10] = (void *)(long)strcmp(buf, s);
            sink[11] = strchrnul(s, argc);
            return 0;
        }
        """;

    private static readonly Lazy<string?>[] Binaries = [new(() => Build(32)), new(() => Build(64))];

    internal static string? Binary(int bits) => Binaries[bits == 32 ? 0 : 1].Value;

    private static string? Build(int bits)
    {
        try
        {
            string dir = Path.Combine(Path.GetTempPath(), $"syscalltools-glibc-sse-{Environment.ProcessId}");
            Directory.CreateDirectory(dir);
            string src = Path.Combine(dir, "strings.c"), exe = Path.Combine(dir, $"strings{bits}");
            File.WriteAllText(src, Source);
            var psi = new ProcessStartInfo("gcc", $"{(bits == 32 ? "-m32 " : "")}-static -O2 -o {exe} {src}") { RedirectStandardError = true, RedirectStandardOutput = true };
            using var p = Process.Start(psi);
            if (p is null) return null;
            p.StandardError.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0 ? exe : null;
        }
        catch (System.ComponentModel.Win32Exception) { return null; }
    }

    /// <summary>The static program's segments mapped into a user-mode test machine (its code replaces the test code page).</summary>
    private sealed class Image
    {
        public required Cpu Cpu;
        public required Dictionary<string, ulong> Functions;
        public required int Bits;
        public ulong Return;

        public static Image Load(int bits)
        {
            var elf = new ElfReader(File.ReadAllBytes(Binary(bits)!));
            var mode = bits == 64 ? TestMode.Long64 : TestMode.Compat;
            var cpu = TestMachine.Create(CpuProfile.IntelSkylake, mode);
            cpu.Cr4 |= ControlBits.Cr4Osfxsr | ControlBits.Cr4Osxmmexcpt;
            cpu.Memory.Unmap(TestMachine.UserCode, 0x10000);
            foreach (var seg in elf.LoadSegments)
            {
                ulong start = seg.VirtualAddress & ~0xFFFUL, end = (seg.VirtualAddress + seg.MemorySize + 0xFFF) & ~0xFFFUL;
                cpu.Memory.Map(start, end - start, seg.IsExecutable ? PageFlags.UserCode : PageFlags.UserData);
                cpu.Memory.WriteBytes(seg.VirtualAddress, seg.Bytes.Span);
            }
            var functions = elf.Symbols.Where(s => s.Type == ElfSymbolType.STT_FUNC && s.Name.Contains("_sse2", StringComparison.Ordinal))
                .GroupBy(s => s.Name).ToDictionary(g => g.Key, g => g.First().Value);
            var image = new Image { Cpu = cpu, Functions = functions, Bits = bits, Return = elf.Entry };
            cpu.AddStopAddress(elf.Entry);
            return image;
        }

        /// <summary>Calls a function with the System V ABI of the bitness and returns its result register.</summary>
        public ulong Call(string name, params ulong[] args)
        {
            var c = Cpu;
            ulong sp = TestMachine.UserStackTop - 0x100;
            if (Bits == 64)
            {
                Gpr[] regs = [Gpr.Rdi, Gpr.Rsi, Gpr.Rdx];
                for (int i = 0; i < args.Length; i++) c[regs[i]] = args[i];
                sp -= 8;
                c.Memory.WriteUInt64(sp, Return);
            }
            else
            {
                for (int i = args.Length - 1; i >= 0; i--) { sp -= 4; c.Memory.WriteUInt32(sp, (uint)args[i]); }
                sp -= 4;
                c.Memory.WriteUInt32(sp, (uint)Return);
            }
            c[Gpr.Rsp] = sp;
            c.Rip = Functions[name];
            var r = c.Run(1_000_000);
            Assert.True(r.Reason == StopReason.Stopped, $"{name}({string.Join(", ", args.Select(a => $"0x{a:x}"))}): {r}");
            return Bits == 64 ? c[Gpr.Rax] : (uint)c[Gpr.Rax];
        }
    }

    [GccStaticFact(32)]
    public void Glibc32SseStringFunctionsMeetTheirDefinitions() => Check(32);

    [GccStaticFact(64)]
    public void Glibc64SseStringFunctionsMeetTheirDefinitions() => Check(64);

    private static void Check(int bits)
    {
        var img = Image.Load(bits);
        var mem = img.Cpu.Memory;
        var r = new Random(1000 + bits);
        ulong dataEnd = TestMachine.UserData + 0x10000;     // the next page is not mapped
        int tested = 0;
        foreach (var (name, _) in img.Functions.OrderBy(f => f.Key))
        {
            string fn = name.TrimStart('_');
            fn = fn[..fn.IndexOf("_sse2", StringComparison.Ordinal)];
            if (fn is not ("strlen" or "strnlen" or "strchr" or "strchrnul" or "strrchr" or "memchr" or "rawmemchr" or "memcmp" or "strcmp"
                or "strcpy" or "memset" or "memcpy")) continue;
            tested++;
            for (int round = 0; round < 60; round++)
            {
                // A string of 0..150 bytes from a small alphabet (so searched bytes occur), at a random offset or at the end of memory.
                int len = r.Next(0, 151);
                var text = Enumerable.Range(0, len).Select(_ => (byte)"abcdefgh\xff\x80"[r.Next(10)]).ToArray();
                ulong s = round % 4 == 0 ? dataEnd - (ulong)len - 1 : TestMachine.UserData + (ulong)r.Next(0, 0x4000);
                mem.WriteBytes(s, [.. text, 0]);
                byte ch = (byte)"abcdefgh\xff\x80\0z"[r.Next(12)];
                int first = Array.IndexOf(text, ch), last = Array.LastIndexOf(text, ch);
                ulong n = (ulong)r.Next(0, len + 2);
                // Above 8 vectors memcpy/memset consult thresholds (__x86_shared_non_temporal_threshold...) that glibc's
                // init_cacheinfo sets at start-up, which a direct call skips: stay below.
                if (fn is "memcpy" or "memset") n = Math.Min(n, 128);
                ulong dst = TestMachine.UserData + 0x8000 + (ulong)r.Next(0, 64);
                string what = $"{name} round {round}: len {len} at 0x{s:x}, c 0x{ch:x2}, n {n}";
                switch (fn)
                {
                    case "strlen": Assert.True(img.Call(name, s) == (ulong)len, what); break;
                    case "strnlen": Assert.True(img.Call(name, s, n) == Math.Min((ulong)len, n), what); break;
                    case "strchr":
                        Assert.True(img.Call(name, s, ch) == (ch == 0 ? s + (ulong)len : first < 0 ? 0 : s + (ulong)first), what); break;
                    case "strchrnul":
                        Assert.True(img.Call(name, s, ch) == (ch == 0 || first < 0 ? s + (ulong)len : s + (ulong)first), what); break;
                    case "strrchr":
                        Assert.True(img.Call(name, s, ch) == (ch == 0 ? s + (ulong)len : last < 0 ? 0 : s + (ulong)last), what); break;
                    case "memchr":
                    {
                        int k = Array.IndexOf(text, ch, 0, (int)Math.Min(n, (ulong)len));
                        if (ch == 0 && k < 0 && n > (ulong)len) k = len;
                        Assert.True(img.Call(name, s, ch, n) == (k < 0 ? 0 : s + (ulong)k), what);
                        break;
                    }
                    case "rawmemchr":
                        if (first < 0 && ch != 0) break;   // undefined unless the byte occurs
                        Assert.True(img.Call(name, s, ch) == s + (ulong)(first >= 0 ? first : len), what);
                        break;
                    case "strcpy":
                        Assert.True(img.Call(name, dst, s) == dst, what);
                        Assert.Equal([.. text, 0], mem.ReadBytes(dst, len + 1));
                        break;
                    case "memset":
                        mem.WriteBytes(dst, new byte[200]);
                        Assert.True(img.Call(name, dst, ch, n) == dst, what);
                        Assert.True(mem.ReadBytes(dst, (int)n + 1).Take((int)n).All(b => b == ch) && mem.ReadBytes(dst + n, 1)[0] == 0, what);
                        break;
                    case "memcpy":
                        mem.WriteBytes(dst, new byte[200]);
                        Assert.True(img.Call(name, dst, s, n) == dst, what);
                        Assert.Equal(mem.ReadBytes(s, (int)n), mem.ReadBytes(dst, (int)n));
                        break;
                    case "memcmp" or "strcmp":
                    {
                        // The second operand: a copy with one byte changed (or none).
                        var other = text.ToArray();
                        if (len > 0 && r.Next(3) > 0) other[r.Next(len)] = (byte)"abcdefgh\xff\x80"[r.Next(10)];
                        mem.WriteBytes(dst, [.. other, 0]);
                        int limit = fn == "memcmp" ? (int)Math.Min(n, (ulong)len) : len + 1;
                        int expected = 0;
                        for (int i = 0; i < limit && expected == 0; i++)
                        {
                            int a = i < len ? text[i] : 0, b = i < len ? other[i] : 0;
                            expected = Math.Sign(a - b);   // unsigned char comparison (C11 7.24.4)
                        }
                        ulong got = fn == "memcmp" ? img.Call(name, s, dst, (ulong)limit) : img.Call(name, s, dst);
                        Assert.True(Math.Sign((int)(uint)got) == expected, $"{what}: returned 0x{got:x}, expected sign {expected}");
                        break;
                    }
                }
            }
        }
        Assert.True(tested >= (bits == 32 ? 6 : 10), $"only {tested} SSE2 string functions found in the {bits}-bit glibc");
    }
}
