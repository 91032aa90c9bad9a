# Functions with CFI directives, for the DWARF CFI reader and unwinder tests (CfiToolchainImageTests).
# The assembler turns the .cfi_* directives into .eh_frame; ld --eh-frame-hdr adds .eh_frame_hdr.

	.text

# The kernel's __kernel_vsyscall (arch/x86/entry/vdso/vdso32/system_call.S) with its CFI_* annotations.
	.globl	vsyscall_like
	.type	vsyscall_like, @function
	.p2align 4
vsyscall_like:
	.cfi_startproc
	pushl	%ecx
	.cfi_adjust_cfa_offset 4
	.cfi_rel_offset ecx, 0
	pushl	%edx
	.cfi_adjust_cfa_offset 4
	.cfi_rel_offset edx, 0
	pushl	%ebp
	.cfi_adjust_cfa_offset 4
	.cfi_rel_offset ebp, 0
	movl	%esp, %ebp
	sysenter
	int	$0x80
	.globl	landing_pad
landing_pad:
	popl	%ebp
	.cfi_restore ebp
	.cfi_adjust_cfa_offset -4
	popl	%edx
	.cfi_restore edx
	.cfi_adjust_cfa_offset -4
	popl	%ecx
	.cfi_restore ecx
	.cfi_adjust_cfa_offset -4
	ret
	.cfi_endproc
	.size	vsyscall_like, .-vsyscall_like

# A frame-pointer function: def_cfa_register, remember/restore_state around an early return, a register rule.
	.globl	framed
	.type	framed, @function
	.p2align 4
framed:
	.cfi_startproc
	pushl	%ebp
	.cfi_def_cfa_offset 8
	.cfi_offset ebp, -8
	movl	%esp, %ebp
	.cfi_def_cfa_register ebp
	pushl	%ebx
	.cfi_offset ebx, -12
	movl	%esi, %edi
	.cfi_register esi, edi
	testl	%eax, %eax
	jz	1f
	.cfi_remember_state
	popl	%ebx
	.cfi_restore ebx
	popl	%ebp
	.cfi_def_cfa esp, 4
	.cfi_restore ebp
	ret
	.cfi_restore_state
1:	movl	%edi, %esi
	.cfi_restore esi
	movl	-4(%ebp), %ebx
	.cfi_restore ebx
	leave
	.cfi_def_cfa esp, 4
	.cfi_restore ebp
	ret
	.cfi_endproc
	.size	framed, .-framed

# A signal trampoline as vdso32/sigreturn.S writes it with raw bytes, here with .cfi_signal_frame and
# .cfi_escape: CFA = *(esp + 28 + 4) (DW_OP_breg4; DW_OP_deref), eax at esp + 44 + 4, eip at esp + 56 + 4,
# then the same 4 bytes lower once "popl %eax" has run. Offsets are struct sigcontext_32's (sp 28, ax 44, ip 56, bx 32)
# past sigframe.sig. The rules for ebx (esp+36: DW_OP_breg4 0; DW_OP_const1u 36; DW_OP_plus; DW_OP_nop) and for eip after the pop
# (DW_OP_breg4 0; DW_OP_plus_uconst 56) use other operations than a breg offset.
	.globl	sigreturn_like
	.type	sigreturn_like, @function
	nop
	.p2align 4
sigreturn_like:
	.cfi_startproc simple
	.cfi_signal_frame
	.cfi_escape 0x0f, 0x03, 0x74, 0x20, 0x06
	.cfi_escape 0x10, 0x00, 0x02, 0x74, 0x30
	.cfi_escape 0x10, 0x08, 0x02, 0x74, 0x3c
	.cfi_escape 0x10, 0x03, 0x06, 0x74, 0x00, 0x08, 0x24, 0x22, 0x96
	popl	%eax
	.cfi_escape 0x0f, 0x03, 0x74, 0x1c, 0x06
	.cfi_escape 0x10, 0x00, 0x02, 0x74, 0x2c
	.cfi_escape 0x10, 0x08, 0x04, 0x74, 0x00, 0x23, 0x38
	movl	$119, %eax
	int	$0x80
	.cfi_endproc
	.size	sigreturn_like, .-sigreturn_like
