import { describe, expect, it } from "vitest";
import { fieldLabel, inWords } from "./field-label";
import { fieldsOf } from "./fields";

describe("field labels", () => {
  it("writes a name in words, acronyms in capitals", () => {
    expect(inWords("max_rows")).toBe("Max rows");
    expect(inWords("csv_file")).toBe("CSV file");
    expect(inWords("csvFile")).toBe("CSV file");
    expect(inWords("csv")).toBe("CSV");
  });

  it("takes a title an author wrote, and reads pydantic's generated title as the name", () => {
    expect(fieldLabel("max_rows", "Max Rows")).toBe("Max rows");
    expect(fieldLabel("csv", "Csv")).toBe("CSV");
    expect(fieldLabel("csv_file", "Csv File")).toBe("CSV file");
    expect(fieldLabel("n", "Number of pictures")).toBe("Number of pictures");
    expect(fieldLabel("csv_file", undefined)).toBe("CSV file");
  });

  it("is the rule of every field of a form", () => {
    const fields = fieldsOf({ properties: { csv: { type: "string", title: "Csv" }, max_rows: { type: "integer", title: "Max Rows" }, csv_file: { type: "string" } } });
    expect(fields.map((f) => f.label)).toEqual(["CSV", "Max rows", "CSV file"]);
  });
});
