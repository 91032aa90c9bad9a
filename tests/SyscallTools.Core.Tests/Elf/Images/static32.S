/*
 * static32.S: a static i386 executable (ET_EXEC) that calls exit(7) through int $0x80, for ElfReader tests.
 * Built with binutils (see README.md in this folder); the binary static32 is committed next to it.
 */
	.text
	.globl	_start
	.type	_start, @function
_start:
	movl	$1, %eax		/* __NR_exit */
	movl	$7, %ebx
	int	$0x80
	.size	_start, .-_start

	.bss
	.globl	scratch
	.type	scratch, @object
	.size	scratch, 256
scratch:
	.zero	256
