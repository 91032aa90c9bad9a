using System.Buffers.Binary;
using SyscallTools.Core.Cpu;

namespace SyscallTools.Core.Linux;

/// <summary>
/// The FPU/SSE state in a signal frame (arch/x86/kernel/fpu/signal.c), for the CPUs the profiles describe: FXSR
/// without XSAVE. Below the frame the kernel reserves an fxsave image aligned to 64 bytes (fpu__alloc_mathframe), and
/// for an i386 frame a 112-byte fsave header before it (struct _fpstate_32: the x87 environment and registers in the
/// old FSAVE layout, then status and magic); sc.fpstate points at the header (i386) or the image (x86-64).
/// sigreturn restores from it; a NULL fpstate resets the FPU and SSE state (fpu__clear_user_states).
/// </summary>
public sealed partial class LinuxMachine
{
    /// <summary>sizeof(struct fxregs_state) and sizeof(struct fregs_state).</summary>
    internal const int FxStateBytes = 512, FsaveHeaderBytes = 112;

    /// <summary>fpu__alloc_mathframe: the fxsave image's address and the fpstate pointer (the header's, for i386 frames).</summary>
    internal static (ulong BufFx, ulong Fpstate) AllocMathFrame(ulong sp, bool ia32)
    {
        ulong bufFx = (sp - FxStateBytes) & ~63UL;
        return (bufFx, ia32 ? bufFx - FsaveHeaderBytes : bufFx);
    }

    /// <summary>The kernel's FXSAVE: FXSAVE64 on a 64-bit kernel (all 16 XMM registers), the 32-bit form on a 32-bit one.</summary>
    private bool KernelFxsave64 => KernelBits == 64;

    /// <summary>copy_fpstate_to_sigframe: the fxsave image, the software bytes after it, and the fsave header for i386 frames.</summary>
    internal bool SaveFpuFrame(ulong bufFx, ulong fpstate, bool ia32)
    {
        var img = new byte[FxStateBytes];
        int written = SyscallTools.Core.Cpu.Cpu.FxXmmOffset + 16 * (KernelFxsave64 ? 16 : 8);
        Cpu.WriteFxImage(img, KernelFxsave64, KernelFxsave64 ? 16 : 8);
        // save_xstate_epilog → save_sw_bytes into sw_reserved (bytes 464..511): 6.x fills it even without XSAVE
        // (magic1, the extended size, the FP|SSE feature mask, the state size); before, a CPU without XSAVE left
        // fx_sw_reserved zero. The instruction does not write bytes 288..463 of a 32-bit image: they stay as they were.
        var sw = new byte[48];
        if (Model.SigframeSwBytesWithoutXsave)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(sw, FpXstateMagic1);
            BinaryPrimitives.WriteUInt32LittleEndian(sw.AsSpan(4), (uint)(FxStateBytes + FpXstateMagic2Size + (ia32 ? FsaveHeaderBytes : 0)));
            BinaryPrimitives.WriteUInt64LittleEndian(sw.AsSpan(8), XfeatureMaskFpSse);
            BinaryPrimitives.WriteUInt32LittleEndian(sw.AsSpan(16), FxStateBytes);
        }
        if (!UserMemory.TryWrite(bufFx, img.AsSpan(0, written)) || !UserMemory.TryWrite(bufFx + 464, sw)) return false;
        if (!ia32) return true;
        var header = new byte[FsaveHeaderBytes];
        ConvertFromFxsr(img, header);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(108), Cpu.Fsw);      // status
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(110), 0);            // magic = X86_FXSR_MAGIC
        return UserMemory.TryWrite(fpstate, header);
    }

    /// <summary>
    /// fpu__restore_sig: NULL resets the state; otherwise the image is loaded (an i386 frame's fsave header folded
    /// in first: it is the source of truth for the x87 part). False when it cannot be read or MXCSR has reserved bits
    /// (64-bit kernels refuse them; a 32-bit kernel masks them): the state is reset and sigreturn fails (SIGSEGV).
    /// </summary>
    internal bool RestoreFpuFrame(ulong fpstate, bool ia32)
    {
        if (fpstate == 0) { Cpu.ResetFpuSse(); return true; }
        ulong bufFx = ia32 ? fpstate + FsaveHeaderBytes : fpstate;
        var img = new byte[FxStateBytes];
        int xmm = KernelFxsave64 ? 16 : 8;
        bool ok = UserMemory.TryRead(bufFx, img.AsSpan(0, SyscallTools.Core.Cpu.Cpu.FxXmmOffset + 16 * xmm));
        if (ok && ia32)
        {
            var header = new byte[FsaveHeaderBytes];
            ok = UserMemory.TryRead(fpstate, header);
            if (ok) ConvertToFxsr(header, img);
        }
        if (ok && KernelBits == 32)
        {
            uint mxcsr = BinaryPrimitives.ReadUInt32LittleEndian(img.AsSpan(24));
            BinaryPrimitives.WriteUInt32LittleEndian(img.AsSpan(24), mxcsr & SyscallTools.Core.Cpu.Cpu.MxcsrMask);
        }
        if (ok && Cpu.ReadFxImage(img, KernelFxsave64, xmm)) return true;
        Cpu.ResetFpuSse();
        return false;
    }

    private const uint FpXstateMagic1 = 0x46505853;
    private const int FpXstateMagic2Size = 4;
    private const ulong XfeatureMaskFpSse = 3;

    /// <summary>
    /// convert_from_fxsr (arch/x86/kernel/fpu/regset.c): the FSAVE-layout environment (cwd, swd, full tag word, fip,
    /// fcs, foo, fos as 32-bit words) and the eight 10-byte registers in stack order.
    /// </summary>
    private void ConvertFromFxsr(ReadOnlySpan<byte> fx, byte[] env)
    {
        void W(int word, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(env.AsSpan(4 * word), v);
        W(0, BinaryPrimitives.ReadUInt16LittleEndian(fx) | 0xFFFF0000u);
        W(1, BinaryPrimitives.ReadUInt16LittleEndian(fx[2..]) | 0xFFFF0000u);
        W(2, TwdFxsrToI387(fx));
        if (KernelBits == 64)
        {
            // "should be actually ds/cs at fpu exception time, but that information is not available in 64bit mode."
            W(3, (uint)BinaryPrimitives.ReadUInt64LittleEndian(fx[8..]));
            W(4, (uint)PtRegs.Cs);
            W(5, (uint)BinaryPrimitives.ReadUInt64LittleEndian(fx[16..]));
            W(6, Cpu.GetSegment(SegReg.DS).Selector | 0xFFFF0000u);
        }
        else
        {
            W(3, BinaryPrimitives.ReadUInt32LittleEndian(fx[8..]));
            W(4, BinaryPrimitives.ReadUInt16LittleEndian(fx[12..]) | ((uint)BinaryPrimitives.ReadUInt16LittleEndian(fx[6..]) << 16));
            W(5, BinaryPrimitives.ReadUInt32LittleEndian(fx[16..]));
            W(6, BinaryPrimitives.ReadUInt32LittleEndian(fx[20..]));
        }
        for (int i = 0; i < 8; i++) fx.Slice(32 + 16 * i, 10).CopyTo(env.AsSpan(28 + 10 * i));
    }

    /// <summary>convert_to_fxsr: the environment and registers of an fsave header written over an fxsave image.</summary>
    private void ConvertToFxsr(byte[] env, Span<byte> fx)
    {
        uint R(int word) => BinaryPrimitives.ReadUInt32LittleEndian(env.AsSpan(4 * word));
        BinaryPrimitives.WriteUInt16LittleEndian(fx, (ushort)R(0));
        BinaryPrimitives.WriteUInt16LittleEndian(fx[2..], (ushort)R(1));
        fx[4] = TwdI387ToFxsr((ushort)R(2));
        BinaryPrimitives.WriteUInt16LittleEndian(fx[6..], (ushort)(R(4) >> 16));
        if (KernelBits == 64)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(fx[8..], R(3));                  // rip = fip; cs and ds ignored
            BinaryPrimitives.WriteUInt64LittleEndian(fx[16..], R(5));                 // rdp = foo
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(fx[8..], R(3));
            BinaryPrimitives.WriteUInt16LittleEndian(fx[12..], (ushort)R(4));
            BinaryPrimitives.WriteUInt32LittleEndian(fx[16..], R(5));
            BinaryPrimitives.WriteUInt32LittleEndian(fx[20..], R(6));
        }
        for (int i = 0; i < 8; i++) env.AsSpan(28 + 10 * i, 10).CopyTo(fx[(32 + 16 * i)..]);
    }

    /// <summary>twd_fxsr_to_i387: the two-bit tags (valid, zero, special, empty) from the abridged tag and each register's exponent and integer bit.</summary>
    private static uint TwdFxsrToI387(ReadOnlySpan<byte> fx)
    {
        int tos = (BinaryPrimitives.ReadUInt16LittleEndian(fx[2..]) >> 11) & 7;
        uint twd = fx[4];
        uint ret = 0xFFFF0000u;
        for (int i = 0; i < 8; i++, twd >>= 1)
        {
            uint tag;
            if ((twd & 1) != 0)
            {
                // FPREG_ADDR(fxsave, (i - tos) & 7): st_space is in stack order, the tag word in physical order.
                var st = fx.Slice(32 + 16 * ((i - tos) & 7), 10);
                ushort exponent = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(st[8..]) & 0x7FFF);
                ulong significand = BinaryPrimitives.ReadUInt64LittleEndian(st);
                tag = exponent switch
                {
                    0x7FFF => 2,
                    0 => significand == 0 ? 1u : 2u,
                    _ => (significand & (1UL << 63)) != 0 ? 0u : 2u,
                };
            }
            else tag = 3;
            ret |= tag << (2 * i);
        }
        return ret;
    }

    /// <summary>twd_i387_to_fxsr: a register is valid (1) unless its tag is 11 (empty).</summary>
    private static byte TwdI387ToFxsr(ushort twd)
    {
        uint tmp = (uint)~twd;
        tmp = (tmp | (tmp >> 1)) & 0x5555;
        tmp = (tmp | (tmp >> 1)) & 0x3333;
        tmp = (tmp | (tmp >> 2)) & 0x0F0F;
        tmp = (tmp | (tmp >> 4)) & 0x00FF;
        return (byte)tmp;
    }
}
