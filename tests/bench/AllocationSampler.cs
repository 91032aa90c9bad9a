using System.Diagnostics.Tracing;

namespace SyscallTools.Bench;

/// <summary>
/// "allocations &lt;via&gt;": which types a round-trip loop allocates, from the runtime's AllocationTick events (one per
/// ~100 KB allocated), so that a bytes-per-call figure above zero can be traced to its source.
/// </summary>
public sealed class AllocationSampler : EventListener
{
    public readonly Dictionary<string, int> Types = new();

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null) return;
        int i = e.PayloadNames?.IndexOf("TypeName") ?? -1;
        if (i < 0) return;
        string type = e.Payload[i]?.ToString() ?? "?";
        lock (Types) Types[type] = Types.GetValueOrDefault(type) + 1;
    }
}
