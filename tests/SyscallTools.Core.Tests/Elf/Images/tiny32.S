/*
 * tiny32.S: a small i386 shared object shaped like a 32-bit vDSO, for ElfReader tests.
 * Built with binutils (see README.md in this folder); the binary tiny32.so is committed next to it.
 * It has exported functions, a local label, an initialised object (.data) and a .bss object
 * (SHT_NOBITS, so the PT_LOAD that holds it has p_memsz > p_filesz).
 */
	.text
	.globl	__kernel_vsyscall
	.type	__kernel_vsyscall, @function
__kernel_vsyscall:
	push	%ecx
	push	%edx
	push	%ebp
	movl	%esp, %ebp
	sysenter
	int	$0x80
int80_landing_pad:
	pop	%ebp
	pop	%edx
	pop	%ecx
	ret
	.size	__kernel_vsyscall, .-__kernel_vsyscall

	.globl	__kernel_sigreturn
	.type	__kernel_sigreturn, @function
__kernel_sigreturn:
	popl	%eax
	movl	$119, %eax		/* __NR_sigreturn */
	int	$0x80
	.size	__kernel_sigreturn, .-__kernel_sigreturn

	.globl	__kernel_rt_sigreturn
	.type	__kernel_rt_sigreturn, @function
__kernel_rt_sigreturn:
	movl	$173, %eax		/* __NR_rt_sigreturn */
	int	$0x80
	.size	__kernel_rt_sigreturn, .-__kernel_rt_sigreturn

	.data
	.globl	tiny_counter
	.type	tiny_counter, @object
	.size	tiny_counter, 4
tiny_counter:
	.long	42

	.bss
	.globl	tiny_buffer
	.type	tiny_buffer, @object
	.size	tiny_buffer, 64
tiny_buffer:
	.zero	64
