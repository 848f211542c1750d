using System.CommandLine;
using System.CommandLine.Invocation;
using ImpactGrains.Cli.Commands;
using ImpactGrains.Client;

namespace ImpactGrains.Cli;

/// <summary>
/// The entry point of <c>impact</c>: builds the command tree, parses, runs, and turns every failure into one line on
/// standard error and an exit code (2 usage, 1 failure, 130 interrupted).
/// </summary>
public static class ImpactCli
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    public const int Interrupted = 130;

    internal const string UrlOption = "--url";
    internal const string ApiKeyOption = "--api-key";

    public static async Task<int> RunAsync(string[] args, CliEnvironment environment, CancellationToken cancellationToken = default)
    {
        RootCommand root;
        ParseResult parse;
        try
        {
            root = Build(environment);
            parse = root.Parse(args);
        }
        catch (Exception e)
        {
            environment.WriteError($"error: {e.Message}");
            return Usage;
        }

        if (parse.Errors.Count > 0)
        {
            var command = parse.CommandResult.Command;
            var names = new List<string>();
            for (Command? c = command; c is not null; c = c.Parents.OfType<Command>().FirstOrDefault())
            {
                names.Insert(0, c is RootCommand ? "impact" : c.Name);
            }

            var path = string.Join(' ', names);
            var error = parse.Errors.FirstOrDefault(e => parse.UnmatchedTokens.Any(t => e.Message.Contains($"'{t}'", StringComparison.Ordinal))) ?? parse.Errors[0];
            environment.WriteError($"error: {error.Message} (see '{path} --help')");
            return Usage;
        }

        var configuration = new InvocationConfiguration
        {
            Output = environment.Out.Profile.Out.Writer,
            Error = environment.Error,
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = environment.HandleTermination ? TimeSpan.FromSeconds(5) : null,
        };

        try
        {
            return await parse.InvokeAsync(configuration, cancellationToken);
        }
        catch (Exception e)
        {
            // The actions handle their own errors; this catches what escapes the parser's own actions.
            return Report(environment, e, cancellationToken);
        }
    }

    private static RootCommand Build(CliEnvironment environment)
    {
        var root = new RootCommand("impact: the command-line client of the ImpactGrains HTTP API")
        {
            new Option<string?>(UrlOption)
            {
                Description = $"The API's base address (default: $IMPACT_URL, else {CommandContext.DefaultUrl})",
                Recursive = true,
            },
            new Option<string?>(ApiKeyOption)
            {
                Description = "Sent as X-Api-Key (default: $IMPACT_API_KEY)",
                Recursive = true,
            },
        };
        root.Add(IngestCommand.Build(environment));
        root.Add(ShowCommand.Build(environment));
        root.Add(TopCommand.Build(environment));
        root.Add(WatchCommand.Build(environment));
        root.Add(AdminCommands.BuildEntities(environment));
        root.Add(AdminCommands.BuildLinks(environment));
        root.Add(AdminCommands.BuildGroups(environment));
        root.Add(FeedCommand.Build(environment));
        return root;
    }

    /// <summary>Sets a command's action: the handler gets a ready <see cref="CommandContext"/>; errors become exit codes.</summary>
    internal static void SetHandler(this Command command, CliEnvironment environment, Func<CommandContext, CancellationToken, Task<int>> handler) =>
        command.SetAction(async (parse, cancellationToken) =>
        {
            CommandContext? context = null;
            try
            {
                context = CommandContext.Create(environment, parse);
                return await handler(context, cancellationToken);
            }
            catch (HttpRequestException e) when (context is not null)
            {
                return Report(environment, new CliFailure($"cannot reach {context.BaseAddress.GetLeftPart(UriPartial.Authority)}: {CommandContext.Describe(e)}"), cancellationToken);
            }
            catch (Exception e)
            {
                return Report(environment, e, cancellationToken);
            }
            finally
            {
                context?.Dispose();
            }
        });

    internal static int Report(CliEnvironment environment, Exception e, CancellationToken cancellationToken)
    {
        switch (e)
        {
            case UsageException:
                environment.WriteError($"error: {e.Message}");
                return Usage;
            case OperationCanceledException when cancellationToken.IsCancellationRequested:
                environment.WriteError("interrupted");
                return Interrupted;
            case CliFailure or ImpactApiException or TimeoutException:
                environment.WriteError($"error: {e.Message}");
                return Failure;
            case HttpRequestException http:
                environment.WriteError($"error: {CommandContext.Describe(http)}");
                return Failure;
            case FileNotFoundException notFound:
                environment.WriteError($"error: {notFound.FileName ?? notFound.Message}: no such file");
                return Failure;
            default:
                environment.WriteError($"error: {e.Message}");
                return Failure;
        }
    }
}

/// <summary>What every command needs: the console, the resolved URL and API key, and the API client.</summary>
internal sealed class CommandContext : IDisposable
{
    public const string DefaultUrl = "http://127.0.0.1:5080";

    private ImpactClient? api;

    private CommandContext(CliEnvironment environment, ParseResult parse, Uri baseAddress, string? apiKey)
    {
        Environment = environment;
        Parse = parse;
        BaseAddress = baseAddress;
        ApiKey = apiKey;
    }

    public CliEnvironment Environment { get; }

    public Spectre.Console.IAnsiConsole Out => Environment.Out;

    public ParseResult Parse { get; }

    public Uri BaseAddress { get; }

    public string? ApiKey { get; }

    /// <summary>The client, with retries of 429 and 503 announced on standard error.</summary>
    public ImpactClient Api => api ??= CreateApi(_ => { });

    /// <summary>The client with other retry or timeout settings (ingest, watch); at most one per command.</summary>
    public ImpactClient CreateApi(Action<ImpactClientOptions> configure)
    {
        if (api is not null)
        {
            throw new InvalidOperationException("the command's client is already made");
        }

        var options = new ImpactClientOptions
        {
            BaseAddress = BaseAddress,
            ApiKey = ApiKey,
            UserAgent = "impact-cli",
            OnRetry = retry => Environment.WriteError($"notice: {retry.Error.Message}; retry {retry.Attempt} in {Format.Duration(retry.Delay)}"),
        };
        configure(options);
        return api = ImpactClient.Create(options);
    }

    public T? Get<T>(Option<T> option) => Parse.GetValue(option);

    public T? Get<T>(Argument<T> argument) => Parse.GetValue(argument);

    public static CommandContext Create(CliEnvironment environment, ParseResult parse)
    {
        var url = parse.GetValue<string?>(ImpactCli.UrlOption);
        if (string.IsNullOrWhiteSpace(url))
        {
            url = environment.GetVariable("IMPACT_URL");
        }

        var apiKey = parse.GetValue<string?>(ImpactCli.ApiKeyOption);
        if (string.IsNullOrEmpty(apiKey))
        {
            apiKey = environment.GetVariable("IMPACT_API_KEY");
        }

        var baseAddress = ParseBaseAddress(string.IsNullOrWhiteSpace(url) ? DefaultUrl : url);
        return new CommandContext(environment, parse, baseAddress, string.IsNullOrEmpty(apiKey) ? null : apiKey);
    }

    /// <summary>Parses and checks <c>--url</c>: an absolute http or https URL.</summary>
    public static Uri ParseBaseAddress(string text)
    {
        if (!Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new UsageException($"--url: '{text}' is not an absolute http or https URL, such as {DefaultUrl}");
        }

        // Relative paths resolve under the given base (and checkpoints name it) with a trailing slash.
        return uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri + "/");
    }

    /// <summary>A network failure in one line: the error and its cause.</summary>
    public static string Describe(HttpRequestException e)
    {
        var inner = e.InnerException?.Message;
        return string.IsNullOrEmpty(inner) || e.Message.Contains(inner, StringComparison.Ordinal) ? e.Message : $"{e.Message} {inner}";
    }

    /// <summary>
    /// A path and query for <see cref="ImpactClient.GetAsync{T}"/>, for a value passed on as the user typed it (an
    /// instant given with --at), so that the server judges it and its refusal is what the user sees.
    /// </summary>
    public static string Route(string format, string segment, params (string Name, string? Value)[] parameters)
    {
        var path = string.Format(System.Globalization.CultureInfo.InvariantCulture, format, Uri.EscapeDataString(segment));
        var given = parameters.Where(p => !string.IsNullOrEmpty(p.Value)).ToArray();
        return given.Length == 0 ? path : path + "?" + string.Join('&', given.Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}"));
    }

    public void Dispose() => api?.Dispose();
}
