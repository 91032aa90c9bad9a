using Xunit;

namespace SyscallTools.Core.Tests.ElfTests;

/// <summary>The toolchain-built images committed under Elf/Images (see the README there for how they were made).</summary>
internal static class TestImages
{
    public const string Tiny32 = "tiny32.so", Tiny64 = "tiny64.so", Static32 = "static32";
    /// <summary>Name used in theories for the image <see cref="TestVdso"/> builds (at load address 0).</summary>
    public const string Built = "built vDSO";
    /// <summary>The built vDSO at 0xffffe000, the fixed address i386 kernels once mapped it at.</summary>
    public const string BuiltHigh = "built vDSO at 0xffffe000";

    public static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "Elf", "Images", name);

    public static byte[] Load(string name) => name switch
    {
        Built => TestVdso.Build().Image,
        BuiltHigh => TestVdso.Build(0xffff_e000).Image,
        _ => File.ReadAllBytes(PathOf(name)),
    };

    public static TheoryData<string> All => new() { Built, BuiltHigh, Tiny32, Tiny64, Static32 };
}
