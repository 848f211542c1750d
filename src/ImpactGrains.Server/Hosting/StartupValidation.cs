using Microsoft.Extensions.Options;

namespace ImpactGrains.Server.Hosting;

/// <summary>Validates an options class with a check that names the key and the problem in one line, or null when the values are good.</summary>
public sealed class OptionsCheck<T>(Func<T, string?> check) : IValidateOptions<T>
    where T : class
{
    public ValidateOptionsResult Validate(string? name, T options) =>
        check(options) is { } error ? ValidateOptionsResult.Fail(error) : ValidateOptionsResult.Success;
}

/// <summary>
/// How configuration sections become validated options. Each is bound with <c>AddOptions().Bind()</c>, validated by an
/// <see cref="IValidateOptions{TOptions}"/> and checked at start-up (<c>ValidateOnStart</c>), so a bad value stops the
/// host before its services start; the server turns that failure into one line (<see cref="RefusalMessage"/>). The
/// sections the host reads while it is being built are also checked then, so that a bad value is refused before
/// Orleans or the database is touched, as it always was.
/// </summary>
public static class StartupValidation
{
    /// <summary>Binds <typeparamref name="T"/> to the section, validated on start by the check; refuses a bad value in the section now.</summary>
    public static OptionsBuilder<T> AddValidatedOptions<T>(this WebApplicationBuilder builder, string section, Func<T, string?> check)
        where T : class, new()
    {
        var validator = new OptionsCheck<T>(check);
        RefuseInvalid(builder.Configuration.GetSection(section), validator);
        return builder.Services.AddCheckedOptions(builder.Configuration.GetSection(section), validator);
    }

    /// <summary>Binds <typeparamref name="T"/> to the section, checked by the validator whenever it is built and on start.</summary>
    public static OptionsBuilder<T> AddCheckedOptions<T>(this IServiceCollection services, IConfigurationSection section, IValidateOptions<T> validator)
        where T : class
    {
        services.AddSingleton(validator);
        return services.AddOptions<T>().Bind(section).ValidateOnStart();
    }

    /// <summary>Refuses to start (<see cref="StartupRefusal"/>) when the values in the section fail the validator.</summary>
    public static void RefuseInvalid<T>(IConfigurationSection section, IValidateOptions<T> validator)
        where T : class, new()
    {
        var result = validator.Validate(Options.DefaultName, section.Get<T>() ?? new T());
        if (result.Failed)
        {
            StartupRefusal.Exit(result.FailureMessage);
        }
    }

    /// <summary>
    /// The one line to refuse the start with when the exception is options validation's (ValidateOnStart throws an
    /// <see cref="AggregateException"/> when several options fail); null for any other exception.
    /// </summary>
    public static string? RefusalMessage(Exception exception) => exception switch
    {
        OptionsValidationException invalid => string.Join("; ", invalid.Failures),
        AggregateException many when many.InnerExceptions.Count > 0 && many.InnerExceptions.All(e => e is OptionsValidationException) =>
            string.Join("; ", many.InnerExceptions.SelectMany(e => ((OptionsValidationException)e).Failures)),
        _ => null,
    };
}
