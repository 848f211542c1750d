using ImpactGrains.Server.Security;

namespace ImpactGrains.Server.Operations;

/// <summary>
/// <c>keys create --name NAME --roles ROLES</c>: makes a new API key, prints it once, and prints the configuration
/// that admits it (its hash, never the key). Nothing is written anywhere: the operator puts the lines into the
/// configuration or the Kubernetes Secret, and the key into whatever uses it.
/// </summary>
public static class KeyCommands
{
    public const string Usage = "usage: ImpactGrains.Server keys create --name NAME --roles ROLE[,ROLE] (roles: ingest, read, admin)";

    public static int Run(string[] args, IConfiguration options)
    {
        if (args.Length < 2 || args[1] != "create")
        {
            Console.Error.WriteLine($"keys: {Usage}");
            return 2;
        }

        var name = options["name"];
        var rolesError = ApiKeyRing.ParseRoles(options["roles"], out var roles);
        var error = string.IsNullOrEmpty(name) ? "--name is required"
            : ApiKeyRing.NameError(name) is { } nameError ? $"--name: {nameError}"
            : rolesError is not null ? $"--roles: {rolesError}"
            : null;
        if (error is not null)
        {
            Console.Error.WriteLine($"keys create: {error}; {Usage}");
            return 2;
        }

        var key = ApiKeyRing.CreateKey();
        var hash = ApiKeyRing.HashOf(key);
        var normalized = ApiRoles.Describe(roles);
        Console.WriteLine($"""
            API key '{name}' ({normalized}). It is shown this once; store it now:

              {key}

            Send it as the X-Api-Key header (or Authorization: Bearer). Admit it with this configuration, which holds only its hash:

              environment, or one file per entry in Impact:Auth:KeysDirectory (named like the variable, holding its value):
                Impact__Auth__Keys__{name}__Roles={normalized}
                Impact__Auth__Keys__{name}__Hash={hash}

              Kubernetes (the mounted Secret; running silos admit the key within about a minute, see docs/security.md):
                kubectl -n impactgrains patch secret impactgrains-api-keys --type=merge -p '{"{"}"stringData":{"{"}"Impact__Auth__Keys__{name}__Roles":"{normalized}","Impact__Auth__Keys__{name}__Hash":"{hash}"{"}"}{"}"}'

              appsettings.json:
                "Impact": {"{"} "Auth": {"{"} "Keys": {"{"} "{name}": {"{"} "Roles": "{normalized}", "Hash": "{hash}" {"}"} {"}"} {"}"} {"}"}
            """);
        return 0;
    }
}
