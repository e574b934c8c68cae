using System.CommandLine;
using Pkarr.Keys;

namespace Pkarr.Cli.Commands;

/// <summary><c>pkarr pubkey</c>: the public key of a secret-key file.</summary>
internal static class PubkeyCommand
{
    internal static Option<FileInfo> SecretOption() => new("--secret", "-s")
    {
        Description = "Secret-key file (64 hex characters, as written by pkarr keygen).",
        Required = true,
    };

    internal static Command Create(CliConsole console)
    {
        var secret = SecretOption();
        var uri = new Option<bool>("--uri") { Description = "Print the pk: URI form." };
        var command = new Command("pubkey", "Print the public key (z-base32) of a secret-key file.") { secret, uri };
        command.SetAction(result => console.Run(() =>
        {
            using var keypair = Keypair.FromSecretKeyFile(result.GetValue(secret)!.FullName);
            console.Out.WriteLine(result.GetValue(uri) ? keypair.PublicKey.ToUri() : keypair.PublicKey.ToString());
            return 0;
        }));
        return command;
    }
}
