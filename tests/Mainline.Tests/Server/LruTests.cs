using CsCheck;
using Mainline.Server;

namespace Mainline.Tests.Server;

public sealed class LruTests
{
    /// <summary>Every operation, against a list kept in order of use (most recent first). The table reuses the nodes of
    /// entries that left, so a node reused while still linked, or keeping an old key or value, shows up here.</summary>
    [Fact]
    public void Keeps_values_order_and_removals_exactly_as_a_list_in_order_of_use()
    {
        Gen.Select(Gen.Int[0, 5], Gen.Int[0, 9], Gen.Int[0, 99]).Array[1, 120].Sample(ops =>
        {
            var removed = new List<int>();
            var lru = new Lru<int, int>(4) { Removed = removed.Add };
            var model = new List<(int Key, int Value)>();
            var expectedRemoved = new List<int>();
            foreach (var (op, key, value) in ops)
            {
                var at = model.FindIndex(e => e.Key == key);
                switch (op)
                {
                    case 0 or 1:
                        lru.Set(key, value);
                        if (at >= 0)
                        {
                            expectedRemoved.Add(model[at].Value);
                            model.RemoveAt(at);
                        }
                        else if (model.Count == 4)
                        {
                            expectedRemoved.Add(model[^1].Value);
                            model.RemoveAt(3);
                        }

                        model.Insert(0, (key, value));
                        break;
                    case 2:
                        Assert.Equal(at >= 0, lru.TryGet(key, out var got));
                        if (at >= 0)
                        {
                            Assert.Equal(model[at].Value, got);
                            var entry = model[at];
                            model.RemoveAt(at);
                            model.Insert(0, entry);
                        }

                        break;
                    case 3:
                        Assert.Equal(at >= 0, lru.Remove(key));
                        if (at >= 0)
                        {
                            expectedRemoved.Add(model[at].Value);
                            model.RemoveAt(at);
                        }

                        break;
                    case 4:
                        lru.RemoveOldestWhile(static (v, limit) => v < limit, value, 2);
                        for (var i = 0; i < 2 && model.Count > 0 && model[^1].Value < value; i++)
                        {
                            expectedRemoved.Add(model[^1].Value);
                            model.RemoveAt(model.Count - 1);
                        }

                        break;
                    default:
                        lru.RemoveWhere(v => v % 10 == key);
                        expectedRemoved.AddRange(model.Where(e => e.Value % 10 == key).Select(e => e.Value));
                        model.RemoveAll(e => e.Value % 10 == key);
                        break;
                }

                Assert.Equal(model.Select(e => e.Value), lru.Values);
                Assert.Equal(model.Count, lru.Count);
                Assert.Equal(model.Count > 0, lru.TryPeekOldest(out var oldest));
                Assert.Equal(model.Count > 0 ? model[^1].Value : 0, oldest);
            }

            Assert.Equal(expectedRemoved, removed);
        }, iter: 2000);
    }
}
