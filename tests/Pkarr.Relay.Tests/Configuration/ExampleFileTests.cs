using Pkarr.Relay.Configuration;

namespace Pkarr.Relay.Tests.Configuration;

public sealed class ExampleFileTests
{
    [Fact]
    public void The_example_file_in_deploy_is_the_example_the_loader_is_tested_with()
    {
        // deploy/config.example.toml is what operators copy; it must be the text whose defaults the other tests check.
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Pkarr.slnx")))
        {
            directory = directory.Parent;
        }

        Assert.NotNull(directory);
        string file = File.ReadAllText(Path.Combine(directory.FullName, "deploy", "config.example.toml"));
        Assert.Equal(RelayConfiguration.ExampleToml.ReplaceLineEndings("\n") + "\n", file.ReplaceLineEndings("\n"));
    }
}
