using SyscallTools.Core.Assembly;
using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Models;
using Xunit;

namespace SyscallTools.Core.Tests.LinuxTests;

/// <summary>modify_ldt (arch/x86/kernel/ldt.c): write_ldt's checks, fill_ldt's descriptor, read_ldt, and using the result.</summary>
public class ModifyLdtTests
{
    private const uint Seg32 = 1, CodeContents = 2 << 1, ReadExecOnly = 8, NotPresent = 0x20, Useable = 0x40;

    private static LinuxMachine Machine(string model = "linux-6.18", int tbits = 32, int kbits = 64) =>
        new(KernelModel.Find(model)!, CpuProfile.IntelSkylake, kbits, tbits);

    private static long ModifyLdt(LinuxMachine m, int func, uint entry, uint baseAddr, uint limit, uint flags, ulong bytecount = 16)
    {
        ulong at = m.UserDataArea + 0x100;
        m.Memory.WriteUInt32(at, entry); m.Memory.WriteUInt32(at + 4, baseAddr);
        m.Memory.WriteUInt32(at + 8, limit); m.Memory.WriteUInt32(at + 12, flags);
        return m.InvokeSyscall(m.Task.Bitness == 32 ? 123 : 154, [(ulong)func, at, bytecount]).Return;
    }

    [Fact]
    public void WriteInstallsAnLdtSizedToTheEntry()
    {
        var m = Machine();
        Assert.Equal(0, ModifyLdt(m, 1, 9, 0x1000, 0xfff, Seg32 | CodeContents | NotPresent));
        Assert.Equal(10, m.LdtEntries);
        Assert.Equal(0x50, m.Cpu.Ldtr.Selector);                     // GDT_ENTRY_LDT on a 64-bit kernel
        Assert.Equal((uint)(10 * 8 - 1), m.Cpu.Ldtr.Limit);
        // fill_ldt(): base, limit, type = code | readable | accessed, DPL 3, not present, D from seg_32bit, L never.
        var d = SyscallTools.Core.Cpu.Cpu.ParseDescriptor(0x4f, m.Memory.ReadUInt64(m.Cpu.Ldtr.Base + 9 * 8));
        Assert.Equal((0x1000UL, 0xfffu, (byte)0xB, (byte)3, false, true, false), (d.Base, d.Limit, d.Type, d.Dpl, d.Present, d.D, d.L));
    }

    [Theory]
    [InlineData(1, 8192u, 0u, -Errno.EINVAL)]                         // entry_number >= LDT_ENTRIES
    [InlineData(1, 1u, 3u << 1 | NotPresent, -Errno.EINVAL)]          // conforming code: never in the old mode
    [InlineData(0x11, 1u, 3u << 1, -Errno.EINVAL)]                    // ... and only not present in the new one
    [InlineData(0x11, 1u, 3u << 1 | NotPresent, 0L)]
    [InlineData(7, 1u, 0u, -Errno.ENOSYS)]                            // no such func
    public void WriteLdtChecks(int func, uint entry, uint flags, long expected)
    {
        var m = Machine();
        Assert.Equal(expected, ModifyLdt(m, func, entry, 0x1000, 0xfff, flags));
    }

    [Fact]
    public void ABytecountOtherThanSizeofUserDescIsEinval()
    {
        var m = Machine();
        Assert.Equal(-Errno.EINVAL, ModifyLdt(m, 1, 1, 0x1000, 0xfff, Seg32, bytecount: 12));
    }

    [Fact]
    public void SixtyFourBitCallersOf618SeeTheErrnoAsAnUnsignedInt()
    {
        // "the ABI for sys_modify_ldt() expects 'int'": 6.x returns (unsigned int)ret, zero-extended in RAX.
        var m = Machine(tbits: 64);
        Assert.Equal((long)unchecked((uint)-Errno.EINVAL), ModifyLdt(m, 1, 8192, 0, 0, 0));
        var old = Machine("linux-4.4", tbits: 64);
        Assert.Equal(-Errno.EINVAL, ModifyLdt(old, 1, 8192, 0, 0, 0));
    }

    [Fact]
    public void EmptyOrOldModeZeroEntriesClearTheSlotAndUseableIsDroppedInTheOldMode()
    {
        var m = Machine(kbits: 32);
        Assert.Equal(0, ModifyLdt(m, 0x11, 2, 0x2000, 0xffff, Seg32 | Useable));
        ulong raw = m.Memory.ReadUInt64(m.Cpu.Ldtr.Base + 16);
        Assert.NotEqual(0UL, raw & (1UL << 52));                      // AVL kept in the new mode
        Assert.Equal(0x88, m.Cpu.Ldtr.Selector);                      // GDT_ENTRY_LDT on a 32-bit kernel
        Assert.Equal(0, ModifyLdt(m, 1, 3, 0x2000, 0xffff, Seg32 | Useable));
        Assert.Equal(0UL, m.Memory.ReadUInt64(m.Cpu.Ldtr.Base + 24) & (1UL << 52));   // "if (oldmode) ldt.avl = 0"
        Assert.Equal(0, ModifyLdt(m, 1, 2, 0, 0, Seg32));             // old mode, base = limit = 0: clear
        Assert.Equal(0UL, m.Memory.ReadUInt64(m.Cpu.Ldtr.Base + 16));
        Assert.Equal(0, ModifyLdt(m, 0x11, 3, 0, 0, ReadExecOnly | NotPresent));   // LDT_empty()
        Assert.Equal(0UL, m.Memory.ReadUInt64(m.Cpu.Ldtr.Base + 24));
        Assert.Equal(4, m.LdtEntries);                                // the table never shrinks
    }

    [Fact]
    public void ReadLdtCopiesTheTableAndPadsWithZeros()
    {
        var m = Machine();
        ulong buf = m.UserDataArea + 0x400;
        Assert.Equal(0, m.InvokeSyscall(123, [0, buf, 64]).Return);   // no LDT yet: 0
        Assert.Equal(0, ModifyLdt(m, 1, 1, 0x3000, 0xfff, Seg32));
        m.Memory.WriteBytes(buf, Enumerable.Repeat((byte)0xEE, 64).ToArray());
        Assert.Equal(64, m.InvokeSyscall(123, [0, buf, 64]).Return);
        Assert.Equal(0UL, m.Memory.ReadUInt64(buf));
        Assert.Equal(m.Memory.ReadUInt64(m.Cpu.Ldtr.Base + 8), m.Memory.ReadUInt64(buf + 8));
        Assert.Equal(0UL, m.Memory.ReadUInt64(buf + 56));             // cleared past the table
    }

    [Fact]
    public void UserCodeCanLoadAnLdtDataSegment()
    {
        var m = Machine(kbits: 32);
        Assert.Equal(0, ModifyLdt(m, 1, 0, 0x0806_0000, 0xffff, Seg32));
        ulong d = m.UserDataArea;
        m.Memory.WriteUInt32(d + 0x10, 0x1234);
        // LDT selector 0 with TI and RPL 3 = 7; ES-relative load from its base.
        var r = m.RunUserCode(IntelSyntax.Assemble(["mov eax, 7", "mov es, eax", "mov eax, es:[0x10]"], 32, m.UserCodeAddress));
        Assert.True(r.Outcome == "ran to the end of the code", r.Outcome);
        Assert.Equal(0x1234UL, r.After.Ax);
        Assert.Equal(7UL, r.After.Es);
    }
    /// <summary>
    /// A 16-bit LDT code segment runs at its base: sigreturn to CS = code16, IP = 0 fetches the bytes at the segment
    /// base and decodes them as 16-bit code (8C D1 = mov cx, ss; CC = int3), so the SIGTRAP comes at IP 3.
    /// </summary>
    [Theory]
    [InlineData(64, 64)]
    [InlineData(64, 32)]
    [InlineData(32, 32)]
    public void SigreturnToA16BitLdtCodeSegmentRunsItAtItsBase(int kbits, int tbits)
    {
        var m = Machine(tbits: tbits, kbits: kbits);
        ulong code16 = m.UserText + 0x2000, handler = m.UserText + 0x100;
        m.Memory.WriteBytes(code16, [0x8C, 0xD1, 0xCC]);
        Assert.Equal(0, ModifyLdt(m, 1, 6, (uint)code16, 0xfff, CodeContents));   // 16-bit, non-conforming code
        string[] body = tbits == 64
            ? ["mov word ptr [rdx+184], 0x37", "mov qword ptr [rdx+168], 0", "ret"]
            : ["mov edx, [esp+12]", "mov dword ptr [edx+80], 0x37", "mov dword ptr [edx+76], 0", "ret"];
        m.Memory.WriteBytes(handler, IntelSyntax.Assemble(body, tbits, handler));
        m.Memory.WriteBytes(m.UserText + 0xF00, [0xB8, 15, 0, 0, 0, 0x0F, 0x05]);
        m.SignalState.Actions[Signal.SIGUSR1] = new SignalAction(handler,
            SignalAction.SaSiginfo | (tbits == 64 ? SignalAction.SaRestorer : 0), tbits == 64 ? m.UserText + 0xF00 : 0, 0);
        string[] raise = tbits == 64
            ? ["mov ecx, 0x55550000", "mov edi, 4242", "mov esi, 4242", "mov edx, 10", "mov eax, 234", "syscall"]
            : ["mov ebx, 4242", "mov ecx, 10", "mov eax, 37", "int 0x80"];
        var r = m.RunUserCode(IntelSyntax.Assemble(raise, tbits, m.UserCodeAddress));
        Assert.Null(r.Oops);
        Assert.Equal(Signal.SIGTRAP, m.Task.KilledBy);                 // no SIGTRAP handler: killed at the int3
        Assert.Equal(3UL, r.After.Ip);
        Assert.Equal(0x37UL, r.After.Cs);
        Assert.Equal(r.After.Ss, r.After.Cx & 0xFFFF);                // mov cx, ss wrote the low 16 bits only
    }
}

/// <summary>
/// espfix64 (arch/x86/entry/entry_64.S native_irq_return_ldt, espfix_64.c) and the CPU behaviour it exists for: an IRET
/// to a 16-bit stack segment outside 64-bit mode loads only SP. The kernel IRETs from a read-only alias of its espfix
/// page whose address bits 31:16 are the user's, so ESP comes out right; RSP[63:32] are zeroed on Intel and keep the
/// alias's bits on AMD (selftest sigreturn.c). An IRET fault there becomes #DF, then #GP(0) for the user.
/// </summary>
public class Espfix64Tests
{
    private static (LinuxMachine M, UserRunResult R) ReturnTo16BitSs(string vendor, ushort ss)
    {
        var m = new LinuxMachine(new Linux618(), vendor == "intel" ? CpuProfile.IntelSkylake : CpuProfile.AmdZen3, 64, 64);
        ulong d = m.UserDataArea, handler = m.UserText + 0x100, tramp = m.UserText + 0x1000;
        m.Memory.WriteBytes(tramp, [0xCC]);                                       // int3
        // data16: a 16-bit LDT data segment (entry 7 = selector 0x3f).
        m.Memory.WriteUInt32(d, 7); m.Memory.WriteUInt32(d + 4, (uint)(d + 0x8000)); m.Memory.WriteUInt32(d + 8, 0xffff); m.Memory.WriteUInt32(d + 12, 0);
        Assert.Equal(0, m.InvokeSyscall(154, [1, d, 16]).Return);
        string[] body = ["mov word ptr [rdx+184], 0x23", $"mov word ptr [rdx+190], {ss}", $"mov rax, {tramp}", "mov [rdx+168], rax",
            "mov rax, 0x123456789abcdef0", "mov [rdx+160], rax", "ret"];
        m.Memory.WriteBytes(handler, IntelSyntax.Assemble(body, 64, handler));
        m.Memory.WriteBytes(m.UserText + 0xF00, [0xB8, 15, 0, 0, 0, 0x0F, 0x05]);
        m.SignalState.Actions[Signal.SIGUSR1] = new SignalAction(handler, SignalAction.SaSiginfo | SignalAction.SaRestorer, m.UserText + 0xF00, 0);
        var r = m.RunUserCode(IntelSyntax.Assemble(["mov edi, 4242", "mov esi, 4242", "mov edx, 10", "mov eax, 234", "syscall"], 64, m.UserCodeAddress));
        return (m, r);
    }

    [Theory]
    [InlineData("intel", 0x0000_0000_9abc_def0UL)]
    [InlineData("amd", 0xFFFF_FF00_9abc_def0UL)]     // the espfix alias's high bits: ESPFIX_BASE_ADDR >> 32
    public void ReturningToA16BitLdtSsGoesThroughEspfixAndKeepsEsp(string vendor, ulong expectedRsp)
    {
        var (m, r) = ReturnTo16BitSs(vendor, 0x3f);
        Assert.Null(r.Oops);
        Assert.Equal(Signal.SIGTRAP, m.Task.KilledBy);                          // at the int3, in compat mode
        Assert.Equal(0x3fUL, r.After.Ss);
        Assert.Equal(expectedRsp, r.After.Sp);
    }

    [Theory]
    [InlineData("intel")]
    [InlineData("amd")]
    public void ABadLdtSsFaultsOnTheEspfixStackAndBecomesGp0(string vendor)
    {
        var (m, r) = ReturnTo16BitSs(vendor, 0x47);                             // an empty LDT entry
        Assert.Null(r.Oops);
        Assert.Equal(Signal.SIGSEGV, m.Task.KilledBy);
        Assert.Contains(r.KernelEntries, e => e.CFunctions.Contains("do_double_fault: espfix64 IRET fault -> #GP(0)"));
    }
}

/// <summary>
/// espfix32 (entry_32.S ldt_ss, FIXUP_ESPFIX_STACK): a 32-bit kernel returns to a 16-bit LDT stack from the ESPFIX_SS
/// segment, whose base makes the kernel ESP's bits 31:16 the user's; an IRET fault there is unwound to the flat stack
/// and ends in iret_exc.
/// </summary>
public class Espfix32Tests
{
    private static (LinuxMachine M, UserRunResult R) ReturnTo16BitSs(string model, ushort ss)
    {
        var m = new LinuxMachine(KernelModel.Find(model)!, CpuProfile.IntelSkylake, 32, 32);
        ulong d = m.UserDataArea, handler = m.UserText + 0x100, tramp = m.UserText + 0x1000;
        m.Memory.WriteBytes(tramp, [0xCC]);
        m.Memory.WriteUInt32(d, 7); m.Memory.WriteUInt32(d + 4, (uint)(d + 0x8000)); m.Memory.WriteUInt32(d + 8, 0xffff); m.Memory.WriteUInt32(d + 12, 0);
        Assert.Equal(0, m.InvokeSyscall(123, [1, d, 16]).Return);
        string[] body = ["mov edx, [esp+12]", $"mov dword ptr [edx+{20 + 72}], {ss}", $"mov dword ptr [edx+{20 + 56}], {tramp}",
            "mov dword ptr [edx+48], 0x9abcdef0", "ret"];
        m.Memory.WriteBytes(handler, IntelSyntax.Assemble(body, 32, handler));
        m.SignalState.Actions[Signal.SIGUSR1] = new SignalAction(handler, SignalAction.SaSiginfo, 0, 0);
        var r = m.RunUserCode(IntelSyntax.Assemble(["mov ebx, 4242", "mov ecx, 10", "mov eax, 37", "int 0x80"], 32, m.UserCodeAddress));
        return (m, r);
    }

    [Theory]
    [InlineData("linux-4.2")]
    [InlineData("linux-4.4")]
    [InlineData("linux-6.18")]
    public void ReturningToA16BitLdtSsKeepsTheUsersEspHighWord(string model)
    {
        var (m, r) = ReturnTo16BitSs(model, 0x3f);
        Assert.Null(r.Oops);
        Assert.Equal(Signal.SIGTRAP, m.Task.KilledBy);
        Assert.Equal(0x3fUL, r.After.Ss);
        Assert.Equal(0x9abcdef0UL, r.After.Sp);                 // not the kernel stack's 0xc300xxxx
        // The espfix segment's base was rewritten for this return (entry_32.S "mov %dl, GDT_ESPFIX_SS + 4").
        Assert.NotEqual(0UL, m.Memory.ReadUInt64(m.Cpu.Gdtr.Base + Selectors.X86.EspfixSs) & 0xFF00_00FF_0000_0000UL);
    }

    [Fact]
    public void ABadLdtSsFaultsOnTheEspfixStackAndEndsInIretExc()
    {
        var (m, r) = ReturnTo16BitSs("linux-6.18", 0x47);
        Assert.Null(r.Oops);
        Assert.Equal(Signal.SIGILL, m.Task.KilledBy);
        Assert.Contains(r.KernelEntries, e => e.CFunctions.Contains("do_iret_error"));
    }
}
