Console.WriteLine("r2ps");
