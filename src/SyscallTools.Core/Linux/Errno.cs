namespace SyscallTools.Core.Linux;

/// <summary>errno values (include/uapi/asm-generic/errno-base.h, errno.h) and the kernel-internal restart codes.</summary>
public static class Errno
{
    public const int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, EBADF = 9, ECHILD = 10, EAGAIN = 11,
        ENOMEM = 12, EACCES = 13, EFAULT = 14, EBUSY = 16, EEXIST = 17, EINVAL = 22, EMFILE = 24, ENOTTY = 25,
        ENODEV = 19, ENOTDIR = 20, EISDIR = 21, ESPIPE = 29, ENAMETOOLONG = 36, EOVERFLOW = 75, EPIPE = 32, ERANGE = 34, ENOSYS = 38;

    /// <summary>Restart codes (include/linux/errno.h): never seen by user space.</summary>
    public const int ERESTARTSYS = 512, ERESTARTNOINTR = 513, ERESTARTNOHAND = 514, ERESTART_RESTARTBLOCK = 516;

    private static readonly Dictionary<int, string> Names = new()
    {
        [EPERM] = "EPERM", [ENOENT] = "ENOENT", [ESRCH] = "ESRCH", [EINTR] = "EINTR", [EIO] = "EIO", [EBADF] = "EBADF",
        [ECHILD] = "ECHILD", [EAGAIN] = "EAGAIN", [ENOMEM] = "ENOMEM", [EACCES] = "EACCES", [EFAULT] = "EFAULT",
        [EBUSY] = "EBUSY", [EEXIST] = "EEXIST", [EINVAL] = "EINVAL", [EMFILE] = "EMFILE", [ENOTTY] = "ENOTTY",
        [ENODEV] = "ENODEV", [ENOTDIR] = "ENOTDIR", [EISDIR] = "EISDIR", [ENAMETOOLONG] = "ENAMETOOLONG", [EOVERFLOW] = "EOVERFLOW", [ESPIPE] = "ESPIPE", [EPIPE] = "EPIPE", [ERANGE] = "ERANGE", [ENOSYS] = "ENOSYS",
        [ERESTARTSYS] = "ERESTARTSYS", [ERESTARTNOINTR] = "ERESTARTNOINTR", [ERESTARTNOHAND] = "ERESTARTNOHAND",
        [ERESTART_RESTARTBLOCK] = "ERESTART_RESTARTBLOCK",
    };

    public static string? Name(int errno) => Names.GetValueOrDefault(errno);

    /// <summary>A return value in [-4095, -1] is an error (IS_ERR_VALUE); its name, or null.</summary>
    public static string? FromReturn(long ret) => ret is < 0 and >= -4095 ? Name((int)-ret) ?? $"errno {-ret}" : null;
}
