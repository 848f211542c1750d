using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Dashboard;

// The Orleans Dashboard adds a grain call filter to every silo that times every call. This measures what that costs:
// an in-process silo with a trivial grain, grain calls per second with the dashboard off and on, in alternating rounds
// of the same run (a fresh silo each round), and the median of each.
// Usage: dotnet run -c Release --project bench/ImpactGrains.Bench.Dashboard -- [--rounds=5] [--seconds=5] [--concurrency=64]
var rounds = int.Parse(Arg("rounds", "5"), CultureInfo.InvariantCulture);
var seconds = double.Parse(Arg("seconds", "5"), CultureInfo.InvariantCulture);
var concurrency = int.Parse(Arg("concurrency", "64"), CultureInfo.InvariantCulture);
Console.WriteLine($"{Environment.ProcessorCount} cores, {rounds} rounds of {seconds} s each way, {concurrency} concurrent callers, 100 grains");

var results = new Dictionary<bool, List<double>> { [false] = [], [true] = [] };
var port = 22_000;
for (var round = 1; round <= rounds; round++)
{
    // Alternate which goes first, so a drift in the machine's speed hurts both alike.
    foreach (var dashboard in round % 2 == 1 ? new[] { false, true } : [true, false])
    {
        var rate = await MeasureAsync(dashboard, port++, port++);
        results[dashboard].Add(rate);
        Console.WriteLine($"round {round}: dashboard {(dashboard ? "on " : "off")}  {rate,10:N0} calls/s");
    }
}

var off = Median(results[false]);
var on = Median(results[true]);
Console.WriteLine($"median: off {off:N0} calls/s, on {on:N0} calls/s, cost {(off - on) / off:P1} of throughput, " +
                  $"{(1e6 / on) - (1e6 / off):N2} µs more per call");
return 0;

async Task<double> MeasureAsync(bool dashboard, int siloPort, int gatewayPort)
{
    using var host = new HostBuilder()
        .ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning))
        .UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort, gatewayPort, serviceId: "bench", clusterId: $"bench-{siloPort}");
            if (dashboard)
            {
                silo.AddDashboard();
            }
        })
        .Build();
    await host.StartAsync();
    var grains = host.Services.GetRequiredService<IGrainFactory>();
    var refs = Enumerable.Range(0, 100).Select(i => grains.GetGrain<IPingGrain>(i)).ToArray();

    // Warm up: activate every grain, let the JIT settle.
    await Run(TimeSpan.FromSeconds(1));
    var watch = Stopwatch.StartNew();
    var calls = await Run(TimeSpan.FromSeconds(seconds));
    var rate = calls / watch.Elapsed.TotalSeconds;
    await host.StopAsync();
    return rate;

    async Task<long> Run(TimeSpan duration)
    {
        var until = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var workers = Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
        {
            long n = 0;
            var i = w;
            while (Stopwatch.GetTimestamp() < until)
            {
                await refs[i++ % refs.Length].PingAsync(i);
                n++;
            }

            return n;
        }));
        return (await Task.WhenAll(workers)).Sum();
    }
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}

string Arg(string name, string fallback) =>
    args.FirstOrDefault(a => a.StartsWith($"--{name}=", StringComparison.Ordinal))?[(name.Length + 3)..] ?? fallback;

public interface IPingGrain : IGrainWithIntegerKey
{
    Task<int> PingAsync(int value);
}

public sealed class PingGrain : Grain, IPingGrain
{
    public Task<int> PingAsync(int value) => Task.FromResult(value + 1);
}
