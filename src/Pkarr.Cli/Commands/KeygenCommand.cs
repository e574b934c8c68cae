using System.CommandLine;
using Pkarr.Keys;

namespace Pkarr.Cli.Commands;

/// <summary><c>pkarr keygen</c>: a new random key pair, its secret written to a 0600 file.</summary>
internal static class KeygenCommand
{
    internal static Command Create(CliConsole console)
    {
        var output = new Option<FileInfo>("--out", "-o")
        {
            Description = "Where to write the secret key (64 hex characters, mode 0600).",
            DefaultValueFactory = _ => new FileInfo("pkarr.key"),
        };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing secret-key file." };

        var command = new Command("keygen", "Generate a key pair, write the secret key to a file and print the public key.")
        {
            output,
            force,
        };
        command.SetAction(result => console.Run(() =>
        {
            var file = result.GetValue(output)!;
            if (file.Exists && !result.GetValue(force))
            {
                console.Fail($"{file.FullName} already exists; pass --force to replace it (its key would be lost).");
                return 1;
            }

            using var keypair = Keypair.Random();
            keypair.WriteSecretKeyFile(file.FullName);
            console.Out.WriteLine(keypair.PublicKey.ToString());
            console.Error.WriteLine($"secret key written to {file.FullName}");
            return 0;
        }));
        return command;
    }
}
